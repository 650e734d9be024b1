import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { TreeEntry } from '@tandem/protocol';
import { planCreate } from './fileTree.ts';

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
