import { test } from 'node:test';
import assert from 'node:assert/strict';
import { safeNextPath } from './navigation.ts';

test('safeNextPath keeps same-site paths and refuses every way to another origin', () => {
  assert.equal(safeNextPath('/projects/abc?x=1#l2'), '/projects/abc?x=1#l2');
  assert.equal(safeNextPath('/invite/tok_123'), '/invite/tok_123');
  for (const hostile of ['//other.host/x', '/\\other.host/x', '\\\\other.host', '/\\/other.host', 'https://other.host', 'javascript:alert(1)', ' /x', '/\t/other.host', '/\n/other.host', '', null, undefined, 'projects']) {
    assert.equal(safeNextPath(hostile), '/projects', JSON.stringify(hostile));
  }
});
