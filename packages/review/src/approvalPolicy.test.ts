import { test } from 'node:test';
import assert from 'node:assert/strict';
import { anyEditor, approvalsRequired, canDecide, mayReview, nApprovals, ownerOnly, parseApprovalPolicy } from './approvalPolicy.ts';

test('P1: viewers never decide, whatever the approvals so far', () => {
  for (const policy of [anyEditor, ownerOnly, nApprovals(1), nApprovals(2)]) {
    for (const so_far of [0, 1, 5]) assert.equal(canDecide(policy, 'viewer', so_far), false);
    assert.equal(mayReview(policy, 'viewer'), false);
  }
});

test('P2: any_editor: an editor or owner decides alone', () => {
  assert.equal(canDecide(anyEditor, 'editor', 0), true);
  assert.equal(canDecide(anyEditor, 'owner', 0), true);
  assert.equal(approvalsRequired(anyEditor), 1);
});

test('P3: owner_only: only an owner decides', () => {
  assert.equal(canDecide(ownerOnly, 'editor', 0), false);
  assert.equal(canDecide(ownerOnly, 'editor', 10), false);
  assert.equal(canDecide(ownerOnly, 'owner', 0), true);
});

test('P4: n_approvals(n): the nth distinct approval decides', () => {
  const p = nApprovals(3);
  assert.equal(canDecide(p, 'editor', 0), false);
  assert.equal(canDecide(p, 'owner', 1), false);
  assert.equal(canDecide(p, 'editor', 2), true);
  assert.equal(mayReview(p, 'editor'), true);
  assert.equal(approvalsRequired(p), 3);
  assert.equal(canDecide(nApprovals(1), 'editor', 0), true);
});

test('policies parse from JSON; bad ones are refused with BAD_INPUT', () => {
  assert.deepEqual(parseApprovalPolicy({ kind: 'n_approvals', n: 2 }), nApprovals(2));
  assert.deepEqual(parseApprovalPolicy({ kind: 'owner_only' }), ownerOnly);
  for (const v of [null, 'any_editor', { kind: 'n_approvals' }, { kind: 'n_approvals', n: 0 }, { kind: 'n_approvals', n: 2.5 }, { kind: 'n_approvals', n: 51 }, { kind: 'everyone' }]) {
    assert.throws(() => parseApprovalPolicy(v), { name: 'AppError', code: 'BAD_INPUT' }, JSON.stringify(v));
  }
});
