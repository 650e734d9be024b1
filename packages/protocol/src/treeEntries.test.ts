import { test } from 'node:test';
import assert from 'node:assert/strict';
import { resolveTreeEntries } from './treeEntries.ts';

test('duplicate paths and files where a folder is needed get unique names, whatever the order', () => {
  const raw: [string, unknown][] = [
    ['b', { path: 'main.js', kind: 'file' }],
    ['a', { path: 'main.js', kind: 'file' }],
    ['c', { path: 'main (2).js', kind: 'file' }],
    ['d', { path: 'lib', kind: 'file' }],
    ['e', { path: 'lib/x.js', kind: 'file' }],
    ['f', { path: 'docs', kind: 'folder' }],
    ['g', { path: 'docs', kind: 'folder' }],
    ['h', { path: 'Makefile', kind: 'file' }],
    ['i', { path: 'Makefile', kind: 'file' }],
    ['j', { path: '../escape', kind: 'file' }],
    ['k', 'garbage'],
  ];
  const expected = {
    a: 'main.js', b: 'main (3).js', c: 'main (2).js', d: 'lib (2)', e: 'lib/x.js', f: 'docs', h: 'Makefile', i: 'Makefile (2)',
  };
  for (const order of [raw, [...raw].reverse()]) {
    const resolved = Object.fromEntries([...resolveTreeEntries(order)].map(([id, e]) => [id, e.path]));
    assert.deepEqual(resolved, expected);
  }
});

test('binary entries are kept with their hash and size, clash like files, and malformed ones are dropped', () => {
  const sha = 'a'.repeat(64);
  const resolved = resolveTreeEntries([
    ['a', { path: 'logo.png', kind: 'file' }],
    ['b', { path: 'logo.png', kind: 'binary', sha256: sha, size: 3 }],
    ['c', { path: 'x.bin', kind: 'binary', sha256: 'nothex', size: 3 }],
    ['d', { path: 'y.bin', kind: 'binary', sha256: sha }],
  ]);
  assert.deepEqual(Object.fromEntries(resolved), {
    a: { path: 'logo.png', kind: 'file' },
    b: { path: 'logo (2).png', kind: 'binary', sha256: sha, size: 3 },
  });
});
