import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { TreeEntry } from '@tandem/protocol';
import { buildFileTree, planCreate, planRename } from './fileTree.ts';

const entries = new Map<string, TreeEntry>([['f1', { path: 'src/index.js', kind: 'file' }]]);

test('"name/" creates a folder, not a file named "name"', () => {
  const plan = planCreate(entries, 'lib/', 'file', 'new');
  assert.deepEqual(plan, { ok: true, edit: { set: [['new', { path: 'lib', kind: 'folder' }]], remove: [] } });
  const file = planCreate(entries, 'lib/a.ts', 'file', 'new2');
  assert.deepEqual(file, { ok: true, edit: { set: [['new2', { path: 'lib/a.ts', kind: 'file' }]], remove: [] } });
});

test('a name over the length limit is refused for that reason, without echoing all of it', () => {
  const long = 'x'.repeat(300);
  const plan = planCreate(entries, long, 'file', 'id');
  assert.equal(plan.ok, false);
  if (plan.ok) return;
  assert.match(plan.error, /at most 255 characters/);
  assert.ok(plan.error.length < 140, plan.error);
  const deep = planCreate(entries, Array.from({ length: 60 }, () => 'abcdefghij').join('/'), 'file', 'id');
  assert.ok(!deep.ok && /path can be at most 512/.test(deep.error));
  const dots = planCreate(entries, 'a/../b', 'file', 'id');
  assert.ok(!dots.ok && /“\.\.” segments/.test(dots.error));
});

test('a binary file shows as a file, and moving it keeps its bytes (hash and size)', () => {
  const sha256 = 'b'.repeat(64);
  const binary = new Map<string, TreeEntry>([['img', { path: 'assets/logo.png', kind: 'binary', sha256, size: 12 }]]);
  assert.deepEqual(buildFileTree(binary)[0]!.children, [{ name: 'logo.png', path: 'assets/logo.png', kind: 'file', binary: true, id: 'img', children: [] }]);
  assert.deepEqual(planRename(binary, 'assets', 'images'), { ok: true, edit: { set: [['img', { path: 'images/logo.png', kind: 'binary', sha256, size: 12 }]], remove: [] } });
  assert.deepEqual(planCreate(binary, 'assets/logo.png/x', 'file', 'n'), { ok: false, error: '“assets/logo.png” is a file, so it cannot contain other files.' });
});
