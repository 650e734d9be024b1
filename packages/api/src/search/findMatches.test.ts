import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runSearch, type SearchQuery } from './findMatches.ts';

const limits = { maxMatches: 100, maxMatchesPerFile: 50, previewChars: 40 };
const q = (pattern: string, more: Partial<SearchQuery> = {}): SearchQuery => ({ pattern, regex: false, caseSensitive: false, wholeWord: false, include: '', exclude: '', ...more });
const files = [
  { path: 'src/a.ts', content: 'const total = 1;\nexport function sum(a, b) { return a + b; }\n// Total: sum\n' },
  { path: 'src/lib/b.js', content: 'import { sum } from "../a";\nconsole.log(sum(1, 2), summary);\n' },
  { path: 'README.md', content: 'Use sum() to add.\n' },
];

test('plain text, case-insensitive by default; lines, columns and previews', () => {
  const out = runSearch(files, q('total'), limits, null);
  assert.equal(out.matchCount, 2);
  assert.deepEqual(out.files[0]!.matches.map((m) => [m.line, m.column]), [[1, 7], [3, 4]]);
  const m = out.files[0]!.matches[1]!;
  assert.equal(m.preview.slice(m.previewStart, m.previewEnd), 'Total');
  assert.equal(runSearch(files, q('total', { caseSensitive: true }), limits, null).matchCount, 1);
});

test('whole word, regex, include and exclude globs', () => {
  assert.equal(runSearch(files, q('sum'), limits, null).matchCount, 6);
  assert.equal(runSearch(files, q('sum', { wholeWord: true }), limits, null).matchCount, 5);
  assert.deepEqual(runSearch(files, q('sum', { include: '*.js' }), limits, null).files.map((f) => f.path), ['src/lib/b.js']);
  assert.deepEqual(runSearch(files, q('sum', { include: 'src/**' , exclude: 'lib' }), limits, null).files.map((f) => f.path), ['src/a.ts']);
  const re = runSearch(files, q('sum\\((\\d), (\\d)\\)', { regex: true }), limits, '$2 + $1 ($$)');
  assert.deepEqual(re.files.map((f) => f.matches.map((m) => m.replacement)), [['2 + 1 ($)']]);
  assert.ok(runSearch(files, q('(', { regex: true }), limits, null).invalid, 'an invalid pattern is reported, not thrown');
  assert.equal(runSearch(files, q('^', { regex: true }), limits, null).matchCount, 0, 'empty matches are not results');
});

test('limits cut the result short and say so', () => {
  const out = runSearch(files, q('s'), { ...limits, maxMatches: 3 }, null);
  assert.equal(out.matchCount, 3);
  assert.equal(out.truncated, true);
});
