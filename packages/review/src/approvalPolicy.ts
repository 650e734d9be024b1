import { AppError, type Role } from '@tandem/protocol';

/**
 * Who may decide a suggestion's hunks. Plain JSON so it can live in a project setting.
 *
 *   P1  viewers never accept, approve or reject, under any policy.
 *   P2  any_editor: one editor or owner decides a hunk (accept or reject).
 *   P3  owner_only: only owners decide; editors are refused.
 *   P4  n_approvals(n): editors and owners vote. An accept (or approve) records the voter's user
 *       id on the hunk; the hunk becomes accepted when the nth DISTINCT approval arrives. A reject
 *       by one editor or owner vetoes the hunk at once (rejecting never changes the document, so it
 *       needs no quorum).
 *   P5  a user's approval counts once per hunk: a repeated approval is refused.
 *   P6  `approve` is the vote of n_approvals; under the single-decider policies it is refused
 *       (use acceptHunk), so the two verbs never mean different things for the same hunk.
 */
export type ApprovalPolicy =
  | { readonly kind: 'any_editor' }
  | { readonly kind: 'owner_only' }
  | { readonly kind: 'n_approvals'; readonly n: number };

/** Upper bound for n: more voters than any project has would make a hunk impossible to accept. */
export const MAX_REQUIRED_APPROVALS = 50;

export const anyEditor: ApprovalPolicy = { kind: 'any_editor' };
export const ownerOnly: ApprovalPolicy = { kind: 'owner_only' };

export function nApprovals(n: number): ApprovalPolicy {
  if (!Number.isInteger(n) || n < 1 || n > MAX_REQUIRED_APPROVALS) {
    throw new AppError('BAD_INPUT', `Required approvals must be a whole number from 1 to ${MAX_REQUIRED_APPROVALS}.`);
  }
  return { kind: 'n_approvals', n };
}

/** Validates a policy read from storage or a request. */
export function parseApprovalPolicy(value: unknown): ApprovalPolicy {
  if (typeof value === 'object' && value !== null && 'kind' in value) {
    if (value.kind === 'any_editor') return anyEditor;
    if (value.kind === 'owner_only') return ownerOnly;
    if (value.kind === 'n_approvals' && 'n' in value && typeof value.n === 'number') return nApprovals(value.n);
  }
  throw new AppError('BAD_INPUT', 'Unknown approval policy.');
}

/** Distinct approvals a hunk needs before it is accepted (P2, P3: one; P4: n). */
export function approvalsRequired(policy: ApprovalPolicy): number {
  return policy.kind === 'n_approvals' ? policy.n : 1;
}

/** May this role take part in reviewing at all: vote, accept or reject (P1, P2, P3, P4)? */
export function mayReview(policy: ApprovalPolicy, role: Role): boolean {
  if (role === 'viewer') return false;
  if (policy.kind === 'owner_only') return role === 'owner';
  return true;
}

/**
 * Would an accept by an actor with `role` decide the hunk now, given `approvalsSoFar` distinct
 * approvals from OTHER users already recorded on it? (P1–P4.)
 */
export function canDecide(policy: ApprovalPolicy, role: Role, approvalsSoFar: number): boolean {
  return mayReview(policy, role) && approvalsSoFar + 1 >= approvalsRequired(policy);
}
