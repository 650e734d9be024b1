/** Starter projects. Each runs out of the box in a sandbox (`tandem.json` names the run command). */
export const TEMPLATES = {
  empty: { label: 'Empty project', files: {} as Record<string, string> },
  node: {
    label: 'Node.js hello world',
    files: {
      'package.json': JSON.stringify({ name: 'hello-tandem', version: '1.0.0', type: 'module', scripts: { start: 'node src/index.js' } }, null, 2) + '\n',
      'src/index.js': `import { greet } from './greet.js';\n\nconsole.log(greet('Tandem'));\n`,
      'src/greet.js': `export function greet(name) {\n  return \`Hello, \${name}!\`;\n}\n`,
      'README.md': '# Hello Tandem\n\nPress **Run** to start `src/index.js`.\n',
      'tandem.json': JSON.stringify({ run: 'node src/index.js' }, null, 2) + '\n',
    },
  },
  python: {
    label: 'Python hello world',
    files: {
      'main.py': `def greet(name: str) -> str:\n    return f"Hello, {name}!"\n\n\nif __name__ == "__main__":\n    print(greet("Tandem"))\n`,
      'README.md': '# Hello Tandem\n\nPress **Run** to start `main.py`.\n',
      'tandem.json': JSON.stringify({ run: 'python3 main.py' }, null, 2) + '\n',
    },
  },
} as const;

export type TemplateId = keyof typeof TEMPLATES;
export const TEMPLATE_IDS = Object.keys(TEMPLATES) as [TemplateId, ...TemplateId[]];
