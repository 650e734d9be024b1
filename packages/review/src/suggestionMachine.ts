import { AppError, ROLES, type Role } from '@tandem/protocol';
import { approvalsRequired, mayReview, type ApprovalPolicy } from './approvalPolicy.ts';

/**
 * The suggestion review state machine, written once: the statuses, the transition rules as plain
 * data (TRANSITION_RULES), the refusal rules (REFUSAL_RULES) and one pure `transition` function.
 * Rule IDs are cited by the tests and the README; keep them stable.
 */

export const SUGGESTION_STATUSES = [
  'requested', 'streaming', 'ready', 'partially_accepted', 'accepted', 'rejected',
  'stale', 'conflict', 'failed', 'cancelled',
] as const;
export type SuggestionStatus = (typeof SUGGESTION_STATUSES)[number];

/** No event leaves these (X1). `stale` is not terminal: it can be regenerated or cancelled. */
export const TERMINAL_STATUSES: readonly SuggestionStatus[] = [
  'partially_accepted', 'accepted', 'rejected', 'conflict', 'failed', 'cancelled',
];

export function isTerminal(status: SuggestionStatus): boolean {
  return TERMINAL_STATUSES.includes(status);
}

export const SUGGESTION_EVENT_TYPES = [
  'start', 'token', 'complete', 'fail', 'cancel', 'acceptHunk', 'rejectHunk', 'acceptAll',
  'rejectAll', 'approve', 'anchorEdited', 'anchorDeleted', 'regenerate', 'hunkEdited',
] as const;
export type SuggestionEventType = (typeof SUGGESTION_EVENT_TYPES)[number];

export interface Actor {
  readonly userId: string;
  readonly role: Role;
}

export type SuggestionEvent =
  | { readonly type: 'start' }
  | { readonly type: 'token' }
  | { readonly type: 'complete'; readonly hunkCount: number }
  | { readonly type: 'fail'; readonly error: string }
  | { readonly type: 'cancel' }
  | { readonly type: 'acceptHunk'; readonly hunk: number; readonly actor: Actor }
  | { readonly type: 'rejectHunk'; readonly hunk: number; readonly actor: Actor }
  | { readonly type: 'acceptAll'; readonly actor: Actor }
  | { readonly type: 'rejectAll'; readonly actor: Actor }
  | { readonly type: 'approve'; readonly hunk: number; readonly actor: Actor }
  | { readonly type: 'anchorEdited' }
  | { readonly type: 'anchorDeleted' }
  | { readonly type: 'regenerate' }
  | { readonly type: 'hunkEdited'; readonly hunk: number };

export type HunkDecision = 'pending' | 'accepted' | 'rejected';

export interface HunkReview {
  readonly decision: HunkDecision;
  /** Distinct user ids that approved this hunk, in arrival order. */
  readonly approvals: readonly string[];
  /** Who made the decision final (the nth approver, or the rejecter); null while pending. */
  readonly decidedBy: string | null;
  /** Someone edited this pending hunk's lines (R15): it can only be rejected now. Absent: intact. */
  readonly stale?: true;
}

/** The review part of a suggestion: plain JSON, stored next to the anchor and texts. */
export interface SuggestionState {
  readonly status: SuggestionStatus;
  /** 1 for the first generation; each regenerate (R14) adds one. */
  readonly attempt: number;
  /** One entry per hunk of the final output, in hunk order; empty until R4. */
  readonly hunks: readonly HunkReview[];
  readonly error: string | null;
}

export interface TransitionContext {
  readonly policy: ApprovalPolicy;
}

export type TransitionRuleId =
  | 'R1' | 'R2' | 'R3' | 'R4' | 'R5' | 'R6' | 'R7' | 'R8' | 'R9' | 'R10' | 'R11' | 'R12' | 'R13' | 'R14' | 'R15';
export type RefusalRuleId = 'X1' | 'X2' | 'X3' | 'X4' | 'X5' | 'P1' | 'P3' | 'P5' | 'P6';

export interface TransitionRule {
  readonly id: TransitionRuleId;
  readonly event: SuggestionEventType;
  readonly from: readonly SuggestionStatus[];
  /** Every status this rule can produce (decisions settle by S1/S2). */
  readonly to: readonly SuggestionStatus[];
  readonly summary: string;
}

const LIVE: readonly SuggestionStatus[] = ['requested', 'streaming'];
const SETTLED_BY_ACCEPT: readonly SuggestionStatus[] = ['ready', 'accepted', 'partially_accepted', 'stale'];

export const TRANSITION_RULES: readonly TransitionRule[] = [
  { id: 'R1', event: 'start', from: ['requested'], to: ['streaming'], summary: 'the provider opened its stream' },
  { id: 'R2', event: 'token', from: ['requested'], to: ['streaming'], summary: 'first token (implies start)' },
  { id: 'R3', event: 'token', from: ['streaming'], to: ['streaming'], summary: 'more output; hunks are recomputed for display only' },
  { id: 'R4', event: 'complete', from: LIVE, to: ['ready'], summary: 'output is final; one pending review per hunk' },
  { id: 'R5', event: 'fail', from: LIVE, to: ['failed'], summary: 'the provider failed; the reason is kept' },
  { id: 'R6', event: 'cancel', from: [...LIVE, 'stale'], to: ['cancelled'], summary: 'stop generating, or discard a stale suggestion' },
  { id: 'R7', event: 'acceptHunk', from: ['ready'], to: SETTLED_BY_ACCEPT, summary: 'the actor approves one hunk; accepted at the policy quorum (P2–P5); then S1' },
  { id: 'R8', event: 'rejectHunk', from: ['ready', 'stale'], to: ['ready', 'rejected', 'partially_accepted', 'stale'], summary: 'one reviewer rejects one hunk (P2–P4), stale ones too; then S1 (a stale suggestion stays stale while hunks are pending)' },
  { id: 'R9', event: 'acceptAll', from: ['ready'], to: SETTLED_BY_ACCEPT, summary: 'R7 for every pending hunk the actor has not approved yet; then S1/S2' },
  { id: 'R10', event: 'rejectAll', from: ['ready'], to: ['rejected', 'partially_accepted'], summary: 'R8 for every pending hunk; then S1/S2' },
  { id: 'R11', event: 'approve', from: ['ready'], to: SETTLED_BY_ACCEPT, summary: 'an n_approvals vote on one hunk (P4–P6); then S1' },
  { id: 'R12', event: 'anchorEdited', from: [...LIVE, 'ready'], to: ['stale'], summary: 'someone edited inside the range while it streamed (no hunks yet): nothing can apply' },
  { id: 'R13', event: 'anchorDeleted', from: [...LIVE, 'ready', 'stale'], to: ['conflict'], summary: 'the whole anchored range was deleted' },
  { id: 'R14', event: 'regenerate', from: ['stale'], to: ['requested'], summary: 'start over on the current text (new base and anchor); reviews cleared' },
  { id: 'R15', event: 'hunkEdited', from: ['ready'], to: ['ready', 'stale'], summary: 'someone edited one pending hunk\'s lines: only that hunk is stale (rejectable, never applied); then S1' },
];

export const REFUSAL_RULES: Readonly<Record<RefusalRuleId, string>> = {
  X1: 'a terminal suggestion accepts no event',
  X2: 'the event has no transition from this status',
  X3: 'malformed event: hunk count, hunk index or actor invalid',
  X4: 'the hunk is already decided',
  X5: 'the hunk is stale: its lines were edited since it was proposed',
  P1: 'viewers never accept, approve or reject',
  P3: 'owner_only: only an owner may decide',
  P5: 'a user approves a hunk at most once',
  P6: 'approve is the n_approvals vote; use acceptHunk under this policy',
};

/**
 * Settling, applied after every decision:
 *   S1  while any intact hunk is pending the status stays `ready`; when every pending hunk is stale
 *       it is `stale` (regenerate on the current code, cancel, or reject hunks one by one). When none is pending: all
 *       accepted → accepted, all rejected → rejected, a mix → partially_accepted.
 *   S2  a suggestion with zero hunks (output equal to the base) is closed by acceptAll → accepted
 *       or rejectAll → rejected.
 */
function settle(hunks: readonly HunkReview[]): SuggestionStatus {
  const pending = hunks.filter((h) => h.decision === 'pending');
  if (pending.some((h) => !h.stale)) return 'ready';
  if (pending.length > 0) return 'stale';
  if (hunks.every((h) => h.decision === 'accepted')) return 'accepted';
  if (hunks.every((h) => h.decision === 'rejected')) return 'rejected';
  return 'partially_accepted';
}

export type TransitionResult =
  | {
    readonly ok: true;
    readonly state: SuggestionState;
    readonly rule: TransitionRuleId;
    /** Hunks that became accepted in this transition: apply exactly these to the document. */
    readonly accepted: readonly number[];
    /** Hunks that became rejected in this transition. */
    readonly rejected: readonly number[];
  }
  | { readonly ok: false; readonly rule: RefusalRuleId; readonly reason: string };

type Refusal = Extract<TransitionResult, { ok: false }>;
type Change = { state: SuggestionState; accepted?: number[]; rejected?: number[] };
type Reducer = (state: SuggestionState, event: SuggestionEvent, ctx: TransitionContext) => Change | Refusal;

function refuse(rule: RefusalRuleId, detail?: string): Refusal {
  return { ok: false, rule, reason: detail ? `${REFUSAL_RULES[rule]} (${detail})` : REFUSAL_RULES[rule] };
}

export function initialSuggestionState(): SuggestionState {
  return { status: 'requested', attempt: 1, hunks: [], error: null };
}

const MAX_ERROR_CHARS = 2000;
/** A generous bound; computeHunks never produces more hunks than lines. */
const MAX_HUNKS = 100_000;

function isActor(value: unknown): value is Actor {
  if (typeof value !== 'object' || value === null) return false;
  const a = value as Record<string, unknown>;
  return typeof a.userId === 'string' && a.userId.length > 0 && (ROLES as readonly unknown[]).includes(a.role);
}

/** P1, P3 (and X3 for a malformed actor): may this actor take part in the review? */
function checkReviewer(actor: unknown, ctx: TransitionContext): Refusal | null {
  if (!isActor(actor)) return refuse('X3', 'actor');
  if (actor.role === 'viewer') return refuse('P1');
  if (!mayReview(ctx.policy, actor.role)) return refuse('P3');
  return null;
}

function checkPendingHunk(state: SuggestionState, index: unknown): Refusal | null {
  if (typeof index !== 'number' || !Number.isInteger(index) || index < 0 || index >= state.hunks.length) {
    return refuse('X3', `hunk ${String(index)} of ${state.hunks.length}`);
  }
  if (state.hunks[index]!.decision !== 'pending') return refuse('X4', `hunk ${index}`);
  return null;
}

/** X5: a stale hunk is never applied (nor voted for). */
function checkIntactHunk(state: SuggestionState, index: number): Refusal | null {
  return state.hunks[index]!.stale ? refuse('X5', `hunk ${index}`) : null;
}

/** P4/P5: records `userId`'s approval; the hunk is accepted once the quorum is reached. */
function approveHunk(hunk: HunkReview, userId: string, policy: ApprovalPolicy): HunkReview {
  const approvals = [...hunk.approvals, userId];
  return approvals.length >= approvalsRequired(policy)
    ? { decision: 'accepted', approvals, decidedBy: userId }
    : { decision: 'pending', approvals, decidedBy: null };
}

function decide(state: SuggestionState, hunks: HunkReview[], whenEmpty: SuggestionStatus): Change {
  const accepted: number[] = [];
  const rejected: number[] = [];
  hunks.forEach((h, i) => {
    if (state.hunks[i]!.decision !== 'pending') return;
    if (h.decision === 'accepted') accepted.push(i);
    if (h.decision === 'rejected') rejected.push(i);
  });
  const status = hunks.length === 0 ? whenEmpty : settle(hunks);
  return { state: { ...state, status, hunks }, accepted, rejected };
}

function acceptOne(state: SuggestionState, hunk: unknown, actor: unknown, ctx: TransitionContext): Change | Refusal {
  const refusal = checkReviewer(actor, ctx) ?? checkPendingHunk(state, hunk) ?? checkIntactHunk(state, hunk as number);
  if (refusal) return refusal;
  const { userId } = actor as Actor;
  const index = hunk as number;
  if (state.hunks[index]!.approvals.includes(userId)) return refuse('P5', `hunk ${index}`);
  const hunks = state.hunks.map((h, i) => (i === index ? approveHunk(h, userId, ctx.policy) : h));
  return decide(state, hunks, 'ready');
}

function rejectOne(state: SuggestionState, hunk: unknown, actor: unknown, ctx: TransitionContext): Change | Refusal {
  const refusal = checkReviewer(actor, ctx) ?? checkPendingHunk(state, hunk);
  if (refusal) return refusal;
  const { userId } = actor as Actor;
  const hunks = state.hunks.map((h, i): HunkReview => (i === hunk ? rejected(h, userId) : h));
  const change = decide(state, hunks, 'ready');
  // Rejecting makes nothing applicable: a stale suggestion (R12, or only stale hunks pending) stays stale until all are decided.
  if (state.status === 'stale' && hunks.some((h) => h.decision === 'pending')) return { ...change, state: { ...change.state, status: 'stale' } };
  return change;
}

function acceptEvery(state: SuggestionState, actor: unknown, ctx: TransitionContext): Change | Refusal {
  const refusal = checkReviewer(actor, ctx);
  if (refusal) return refusal;
  const { userId } = actor as Actor;
  const votable = (h: HunkReview) => h.decision === 'pending' && !h.stale && !h.approvals.includes(userId);
  if (state.hunks.length > 0 && !state.hunks.some(votable)) return refuse('P5', 'every pending hunk already approved by this user');
  const hunks = state.hunks.map((h) => (votable(h) ? approveHunk(h, userId, ctx.policy) : h));
  return decide(state, hunks, 'accepted');
}

function rejectEvery(state: SuggestionState, actor: unknown, ctx: TransitionContext): Change | Refusal {
  const refusal = checkReviewer(actor, ctx);
  if (refusal) return refusal;
  const { userId } = actor as Actor;
  const hunks = state.hunks.map((h): HunkReview => (h.decision === 'pending' ? rejected(h, userId) : h));
  return decide(state, hunks, 'rejected');
}

/** A rejected hunk is decided: whether it had gone stale no longer matters. */
function rejected(h: HunkReview, userId: string): HunkReview {
  return { decision: 'rejected', approvals: h.approvals, decidedBy: userId };
}

function markStale(state: SuggestionState, hunk: unknown): Change | Refusal {
  const refusal = checkPendingHunk(state, hunk);
  if (refusal) return refusal;
  if (state.hunks[hunk as number]!.stale) return refuse('X5', `hunk ${String(hunk)}`);
  const hunks = state.hunks.map((h, i): HunkReview => (i === hunk ? { ...h, stale: true } : h));
  return { state: { ...state, status: settle(hunks), hunks } };
}

function withStatus(status: SuggestionStatus): Reducer {
  return (state) => ({ state: { ...state, status } });
}

/** The transitions' effects, keyed by rule id; which rule applies is decided by TRANSITION_RULES. */
const REDUCERS: Readonly<Record<TransitionRuleId, Reducer>> = {
  R1: withStatus('streaming'),
  R2: withStatus('streaming'),
  R3: withStatus('streaming'),
  R4: (state, event) => {
    const count = event.type === 'complete' ? event.hunkCount : NaN;
    if (!Number.isInteger(count) || count < 0 || count > MAX_HUNKS) return refuse('X3', `hunk count ${String(count)}`);
    const hunks = Array.from({ length: count }, (): HunkReview => ({ decision: 'pending', approvals: [], decidedBy: null }));
    return { state: { ...state, status: 'ready', hunks } };
  },
  R5: (state, event) => {
    const error = event.type === 'fail' && typeof event.error === 'string' ? event.error.slice(0, MAX_ERROR_CHARS) : 'failed';
    return { state: { ...state, status: 'failed', error } };
  },
  R6: withStatus('cancelled'),
  R7: (state, event, ctx) => (event.type === 'acceptHunk' ? acceptOne(state, event.hunk, event.actor, ctx) : refuse('X3')),
  R8: (state, event, ctx) => (event.type === 'rejectHunk' ? rejectOne(state, event.hunk, event.actor, ctx) : refuse('X3')),
  R9: (state, event, ctx) => (event.type === 'acceptAll' ? acceptEvery(state, event.actor, ctx) : refuse('X3')),
  R10: (state, event, ctx) => (event.type === 'rejectAll' ? rejectEvery(state, event.actor, ctx) : refuse('X3')),
  R11: (state, event, ctx) => {
    if (event.type !== 'approve') return refuse('X3');
    // P1/P3 come before P6 so a viewer learns "viewers never approve", not "wrong policy".
    const reviewer = checkReviewer(event.actor, ctx);
    if (reviewer) return reviewer;
    if (ctx.policy.kind !== 'n_approvals') return refuse('P6');
    return acceptOne(state, event.hunk, event.actor, ctx);
  },
  R12: withStatus('stale'),
  R13: withStatus('conflict'),
  R14: (state) => ({ state: { status: 'requested', attempt: state.attempt + 1, hunks: [], error: null } }),
  R15: (state, event) => (event.type === 'hunkEdited' ? markStale(state, event.hunk) : refuse('X3')),
};

/** The rule that handles `event` in `status`, if any (exported for the README table and tests). */
export function ruleFor(status: SuggestionStatus, eventType: SuggestionEventType): TransitionRule | undefined {
  return TRANSITION_RULES.find((r) => r.event === eventType && r.from.includes(status));
}

/**
 * Pure: the next state for `event`, or a refusal naming the rule that forbids it. Never throws on
 * malformed events (they are refused with X3 or X2), so request input can be passed straight in.
 */
export function transition(state: SuggestionState, event: SuggestionEvent, ctx: TransitionContext): TransitionResult {
  if (isTerminal(state.status)) return refuse('X1', `${state.status} is terminal`);
  const rule = ruleFor(state.status, event.type);
  if (!rule) return refuse('X2', `${String(event.type)} in ${state.status}`);
  const change = REDUCERS[rule.id](state, event, ctx);
  if ('ok' in change) return change;
  return { ok: true, state: change.state, rule: rule.id, accepted: change.accepted ?? [], rejected: change.rejected ?? [] };
}

/** Validates a state read back from storage; throws AppError BAD_INPUT when it is not one. */
export function parseSuggestionState(value: unknown): SuggestionState {
  const bad = () => new AppError('BAD_INPUT', 'Stored suggestion state is invalid.');
  if (typeof value !== 'object' || value === null) throw bad();
  const v = value as Record<string, unknown>;
  if (!(SUGGESTION_STATUSES as readonly unknown[]).includes(v.status)) throw bad();
  if (typeof v.attempt !== 'number' || !Number.isInteger(v.attempt) || v.attempt < 1) throw bad();
  if (v.error !== null && typeof v.error !== 'string') throw bad();
  if (!Array.isArray(v.hunks) || v.hunks.length > MAX_HUNKS) throw bad();
  const hunks = v.hunks.map((h: unknown): HunkReview => {
    if (typeof h !== 'object' || h === null) throw bad();
    const r = h as Record<string, unknown>;
    if (r.decision !== 'pending' && r.decision !== 'accepted' && r.decision !== 'rejected') throw bad();
    if (!Array.isArray(r.approvals) || !r.approvals.every((a) => typeof a === 'string')) throw bad();
    if (r.decidedBy !== null && typeof r.decidedBy !== 'string') throw bad();
    if (r.stale !== undefined && r.stale !== true) throw bad();
    const review: HunkReview = { decision: r.decision, approvals: [...(r.approvals as string[])], decidedBy: r.decidedBy };
    return r.stale && r.decision === 'pending' ? { ...review, stale: true } : review;
  });
  return { status: v.status as SuggestionStatus, attempt: v.attempt, hunks, error: v.error };
}
