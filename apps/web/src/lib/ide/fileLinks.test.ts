import assert from 'node:assert/strict';
import { test } from 'node:test';
import { findFileLinks } from './fileLinks.ts';

const files = new Map([['src/index.js', 'f1'], ['main.py', 'f2'], ['src/app.ts', 'f3']]);
const lookup = (path: string) => files.get(path) ?? null;
const shown = (text: string) => findFileLinks(text, lookup).map((l) => [text.slice(l.start, l.end), l.fileId, l.line, l.column]);

test('Node stack traces (absolute sandbox paths, file URLs) link to the project file', () => {
  const trace = 'Error: boom\n    at greet (/project/src/index.js:3:9)\n    at file:///project/src/index.js:7:1\n    at node:internal/main:1:1';
  assert.deepEqual(shown(trace), [
    ['/project/src/index.js:3:9', 'f1', 3, 9],
    ['file:///project/src/index.js:7:1', 'f1', 7, 1],
  ]);
});

test('compiler, linter and Python formats', () => {
  assert.deepEqual(shown('src/app.ts(12,5): error TS2322'), [['src/app.ts(12,5)', 'f3', 12, 5]]);
  assert.deepEqual(shown('./src/app.ts:4 warning'), [['./src/app.ts:4', 'f3', 4, 1]]);
  assert.deepEqual(shown('  File "/project/main.py", line 6, in <module>'), [['/project/main.py", line 6', 'f2', 6, 1]]);
});

test('paths that are not project files, and line 0, are not links', () => {
  assert.deepEqual(shown('at /usr/lib/node.js:1:1 and other.js:3 and src/index.js:0'), []);
  assert.deepEqual(shown('x'.repeat(30_000) + ' src/index.js:1'), []);
});
