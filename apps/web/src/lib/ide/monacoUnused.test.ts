import assert from 'node:assert/strict';
import { readFileSync, readdirSync, existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { test } from 'node:test';

// The stubs only work while Monaco imports each stubbed module by the specifier next.config.ts
// names and asks it only for names the stub exports: checked here against the installed Monaco,
// so a Monaco upgrade that moves or renames one fails this test instead of the production build.
const web = resolve(import.meta.dirname, '../../..');
const monacoEsm = createRequire(import.meta.url).resolve('monaco-editor/editor/editor.api.js').replace(/\/vs\/editor\/editor\.api\.js$/, '');
const config = readFileSync(join(web, 'next.config.ts'), 'utf8');
const stubbed = [...config.matchAll(/^ {2}'([^']+)': '\.\/src\/lib\/ide\/monacoUnused\.ts',$/gm)].map((m) => m[1]!);
const stub = readFileSync(join(web, 'src/lib/ide/monacoUnused.ts'), 'utf8');
const exported = new Set([...stub.matchAll(/^export class (\w+)/gm)].map((m) => m[1]!));

function monacoFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? monacoFiles(join(dir, e.name)) : e.name.endsWith('.js') ? [join(dir, e.name)] : []);
}

test('every Monaco module aliased to monacoUnused.ts exists, and the stub exports all its importers ask for', () => {
  assert.ok(stubbed.length >= 9, `aliases found in next.config.ts: ${stubbed.join(', ')}`);
  const files = monacoFiles(monacoEsm);
  for (const specifier of stubbed) {
    const imports = files.flatMap((file) => {
      const text = readFileSync(file, 'utf8');
      return [...text.matchAll(/^import \{([^}]*)\} from '([^']+)';$/gm)]
        .filter((m) => m[2] === specifier)
        .map((m) => ({ file, names: m[1]!.split(',').map((n) => n.trim().split(/\s+as\s+/)[0]!).filter(Boolean) }));
    });
    assert.ok(imports.length > 0, `no Monaco module imports '${specifier}' any more: drop its alias`);
    for (const { file, names } of imports) {
      assert.ok(existsSync(resolve(dirname(file), specifier)), `${specifier} (imported by ${file}) no longer exists`);
      for (const name of names) assert.ok(exported.has(name), `monacoUnused.ts does not export ${name}, which ${file} imports from '${specifier}'`);
    }
  }
});

test("the quick input alias still matches Monaco: standaloneServices imports the service by that specifier, and the real module lazyQuickInput.ts loads still exists", () => {
  const specifier = './quickInput/standaloneQuickInputService.js';
  assert.match(config, new RegExp(`^ {2}'${specifier.replace(/[./]/g, '\\$&')}': '\\./src/lib/ide/lazyQuickInput\\.ts',$`, 'm'));
  const services = join(monacoEsm, 'vs/editor/standalone/browser/standaloneServices.js');
  const text = readFileSync(services, 'utf8');
  assert.ok(text.includes(`import { StandaloneQuickInputService } from '${specifier}';`), 'standaloneServices.js no longer imports the quick input service by the aliased specifier');
  // The lazy service asks for these two services by position; the real one must still take the same.
  const real = readFileSync(resolve(dirname(services), specifier), 'utf8');
  assert.match(real, /StandaloneQuickInputService = __decorate\(\[\s*__param\(0, IInstantiationService\),\s*__param\(1, ICodeEditorService\)\s*\], StandaloneQuickInputService\);/);
  assert.match(real, /^export \{[^}]*\bStandaloneQuickInputService\b[^}]*\};$/m);
  // Every way Monaco's editor reaches the service: the lazy one implements each of these.
  const lazy = readFileSync(join(web, 'src/lib/ide/lazyQuickInput.ts'), 'utf8');
  for (const member of ['currentQuickInput', 'quickAccess', 'pick', 'input', 'createQuickPick', 'createInputBox', 'toggle', 'toggleHover']) {
    assert.match(real, new RegExp(`^    (get )?${member}\\(`, 'm'), `the real service no longer has ${member}`);
    assert.match(lazy, new RegExp(`^  (get )?${member}\\(`, 'm'), `lazyQuickInput.ts lacks ${member}`);
  }
});
