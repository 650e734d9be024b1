import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mergeDiskEdit } from './mergeDiskEdit.ts';

const base = ['a', 'b', 'c', 'd', 'e', 'f', 'g', ''].join('\n');

test('a disk edit and edits made meanwhile in other lines both apply; the same or adjacent lines are a conflict', () => {
  assert.equal(mergeDiskEdit(base, base, base.replace('b', 'B')), base.replace('b', 'B'), 'nobody else changed it');
  assert.equal(mergeDiskEdit(base, base.replace('f', 'F'), base), base.replace('f', 'F'), 'the agent did not change it');
  assert.equal(mergeDiskEdit(base, base.replace('f', 'F'), base.replace('b', 'B')), base.replace('b', 'B').replace('f', 'F'));
  assert.equal(mergeDiskEdit(base, `${base}h\n`, base.replace('a', 'A\nA2')), `${base.replace('a', 'A\nA2')}h\n`, 'insertions at both ends');
  assert.equal(mergeDiskEdit(base, base.replace('c', 'C'), base.replace('c', 'X')), null, 'same line');
  assert.equal(mergeDiskEdit(base, base.replace('c', 'C'), base.replace('d', 'D')), null, 'adjacent lines');
});
