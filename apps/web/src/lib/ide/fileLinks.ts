/**
 * `file:line[:col]` references in program output (Node and browser stack traces, compilers,
 * linters, Python tracebacks), resolved to project files so run output and terminals can link
 * them. Paths may be relative to the project or absolute inside the sandbox (`/project/…`).
 */
export interface FileLink {
  start: number;
  end: number;
  fileId: string;
  line: number;
  column: number;
}

/** Where the sandbox mounts the working copy (packages/sandbox). */
const SANDBOX_ROOT = '/project/';
const PATH = String.raw`(?:file:\/\/)?((?:\.{0,2}\/)?(?:[\w.@+-]+\/)*[\w.@+-]+\.[A-Za-z0-9]+)`;
/** `path:12`, `path:12:5`, `path(12,5)` (tsc). */
const COLON_FORM = new RegExp(String.raw`${PATH}(?::(\d+)(?::(\d+))?|\((\d+),(\d+)\))`, 'g');
/** Python: `File "path", line 12`. */
const PYTHON_FORM = /File "([^"\n]+)", line (\d+)/g;
const MAX_SCANNED = 20_000;

export function findFileLinks(text: string, fileIdAt: (path: string) => string | null): FileLink[] {
  if (text.length > MAX_SCANNED) return [];
  const links: FileLink[] = [];
  const add = (start: number, end: number, rawPath: string, line: string | undefined, column: string | undefined) => {
    const fileId = fileIdAt(projectPath(rawPath));
    const lineNo = Number(line);
    if (!fileId || !Number.isInteger(lineNo) || lineNo < 1) return;
    links.push({ start, end, fileId, line: lineNo, column: Math.max(1, Number(column) || 1) });
  };
  for (const m of text.matchAll(COLON_FORM)) {
    add(m.index, m.index + m[0].length, m[1]!, m[2] ?? m[4], m[3] ?? m[5]);
  }
  for (const m of text.matchAll(PYTHON_FORM)) {
    add(m.index + 'File "'.length, m.index + m[0].length, m[1]!, m[2], undefined);
  }
  return links.sort((a, b) => a.start - b.start).filter((l, i, all) => i === 0 || l.start >= all[i - 1]!.end);
}

function projectPath(raw: string): string {
  let path = raw.startsWith('file://') ? raw.slice('file://'.length) : raw;
  if (path.startsWith(SANDBOX_ROOT)) path = path.slice(SANDBOX_ROOT.length);
  return path.replace(/^(\.\/)+/, '');
}
