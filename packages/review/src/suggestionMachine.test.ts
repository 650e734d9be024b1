import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import {
  SUGGESTION_STATUSES, SUGGESTION_EVENT_TYPES, TRANSITION_RULES, initialSuggestionState, parseSuggestionState,
  ruleFor, transition, type Actor, type HunkReview, type SuggestionEvent, type SuggestionEventType,
  type SuggestionState, type SuggestionStatus, type TransitionContext,
} from './suggestionMachine.ts';
import { anyEditor, nApprovals, ownerOnly } from './approvalPolicy.ts';
import { SeededRandom, testSeed } from '@tandem/protocol/testing';

const owner: Actor = { userId: 'o', role: 'owner' };
const ed1: Actor = { userId: 'e1', role: 'editor' };
const ed2: Actor = { userId: 'e2', role: 'editor' };
const viewer: Actor = { userId: 'v', role: 'viewer' };
const ANY: TransitionContext = { policy: anyEditor };

const pending = (): HunkReview => ({ decision: 'pending', approvals: [], decidedBy: null });
function stateIn(status: SuggestionStatus, hunkCount = status === 'ready' || status === 'stale' ? 2 : 0): SuggestionState {
  return { ...initialSuggestionState(), status, hunks: Array.from({ length: hunkCount }, pending) };
}

const SAMPLE: Record<SuggestionEventType, SuggestionEvent> = {
  start: { type: 'start' },
  token: { type: 'token' },
  complete: { type: 'complete', hunkCount: 3 },
  fail: { type: 'fail', error: 'provider timed out' },
  cancel: { type: 'cancel' },
  acceptHunk: { type: 'acceptHunk', hunk: 0, actor: ed1 },
  rejectHunk: { type: 'rejectHunk', hunk: 0, actor: ed1 },
  acceptAll: { type: 'acceptAll', actor: ed1 },
  rejectAll: { type: 'rejectAll', actor: ed1 },
  approve: { type: 'approve', hunk: 0, actor: ed1 },
  anchorEdited: { type: 'anchorEdited' },
  anchorDeleted: { type: 'anchorDeleted' },
  regenerate: { type: 'regenerate' },
  hunkEdited: { type: 'hunkEdited', hunk: 0 },
};
/** approve is the n_approvals vote (P6), so its sample runs under n_approvals(2). */
const ctxFor = (e: SuggestionEventType): TransitionContext => (e === 'approve' ? { policy: nApprovals(2) } : ANY);

/**
 * The specification, written independently of TRANSITION_RULES: for each non-terminal status, the
 * events that move it (rule, resulting status for the sample event). Every other pair is refused:
 * X1 from a terminal status, X2 otherwise.
 */
const EXPECTED: Partial<Record<SuggestionStatus, Partial<Record<SuggestionEventType, [string, SuggestionStatus]>>>> = {
  requested: {
    start: ['R1', 'streaming'], token: ['R2', 'streaming'], complete: ['R4', 'ready'], fail: ['R5', 'failed'],
    cancel: ['R6', 'cancelled'], anchorEdited: ['R12', 'stale'], anchorDeleted: ['R13', 'conflict'],
  },
  streaming: {
    token: ['R3', 'streaming'], complete: ['R4', 'ready'], fail: ['R5', 'failed'], cancel: ['R6', 'cancelled'],
    anchorEdited: ['R12', 'stale'], anchorDeleted: ['R13', 'conflict'],
  },
  ready: {
    acceptHunk: ['R7', 'ready'], rejectHunk: ['R8', 'ready'], acceptAll: ['R9', 'accepted'], rejectAll: ['R10', 'rejected'],
    approve: ['R11', 'ready'], anchorEdited: ['R12', 'stale'], anchorDeleted: ['R13', 'conflict'], hunkEdited: ['R15', 'ready'],
  },
  stale: { cancel: ['R6', 'cancelled'], anchorDeleted: ['R13', 'conflict'], regenerate: ['R14', 'requested'], rejectHunk: ['R8', 'stale'] },
};
const TERMINAL: readonly SuggestionStatus[] = ['partially_accepted', 'accepted', 'rejected', 'conflict', 'failed', 'cancelled'];

for (const status of SUGGESTION_STATUSES) {
  for (const eventType of SUGGESTION_EVENT_TYPES) {
    const expected = EXPECTED[status]?.[eventType];
    const refusal = TERMINAL.includes(status) ? 'X1' : 'X2';
    const name = expected
      ? `${expected[0]}: ${status} --${eventType}--> ${expected[1]}`
      : `${refusal}: ${status} refuses ${eventType}`;
    test(name, () => {
      const result = transition(stateIn(status), SAMPLE[eventType], ctxFor(eventType));
      if (expected) {
        assert.ok(result.ok, `expected ${expected[0]}, got ${JSON.stringify(result)}`);
        assert.equal(result.rule, expected[0]);
        assert.equal(result.state.status, expected[1]);
        assert.equal(ruleFor(status, eventType)?.id, expected[0]);
      } else {
        assert.ok(!result.ok);
        assert.equal(result.rule, refusal);
        assert.match(result.reason, /\S/);
        assert.equal(ruleFor(status, eventType), undefined);
      }
    });
  }
}

test('TRANSITION_RULES lists exactly the specified pairs, each rule id once', () => {
  const listed = TRANSITION_RULES.flatMap((r) => r.from.map((f) => `${f}/${r.event}/${r.id}`)).sort();
  const specified = Object.entries(EXPECTED).flatMap(([s, evs]) => Object.entries(evs).map(([e, [id]]) => `${s}/${e}/${id}`)).sort();
  assert.deepEqual(listed, specified);
  assert.equal(new Set(TRANSITION_RULES.map((r) => r.id)).size, TRANSITION_RULES.length);
  for (const s of TERMINAL) assert.ok(!TRANSITION_RULES.some((r) => r.from.includes(s)), `${s} must be terminal`);
});

test('the README rule table matches TRANSITION_RULES', () => {
  const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
  const rows = [...readme.matchAll(/^\| (R\d+) \| ([^|]+) \| (\w+) \| ([^|]+) \|/gm)];
  const documented = rows.map(([, id, from, event, to]) => [id, from!.trim(), event, to!.trim()].join(' / '));
  const actual = TRANSITION_RULES.map((r) => [r.id, r.from.join(', '), r.event, r.to.join(', ')].join(' / '));
  assert.deepEqual(documented, actual);
});

function run(state: SuggestionState, ctx: TransitionContext, ...events: SuggestionEvent[]): SuggestionState {
  for (const e of events) {
    const r = transition(state, e, ctx);
    assert.ok(r.ok, `${e.type} refused: ${JSON.stringify(r)}`);
    state = r.state;
  }
  return state;
}
const accept = (hunk: number, actor: Actor = ed1): SuggestionEvent => ({ type: 'acceptHunk', hunk, actor });
const reject = (hunk: number, actor: Actor = ed1): SuggestionEvent => ({ type: 'rejectHunk', hunk, actor });
const approve = (hunk: number, actor: Actor): SuggestionEvent => ({ type: 'approve', hunk, actor });

test('R4: complete creates one pending review per hunk; X3 refuses a bad hunk count', () => {
  const s = run(initialSuggestionState(), ANY, { type: 'token' }, { type: 'complete', hunkCount: 3 });
  assert.deepEqual(s.hunks, [pending(), pending(), pending()]);
  for (const hunkCount of [-1, 1.5, NaN, 1e9]) {
    const r = transition(stateIn('streaming'), { type: 'complete', hunkCount }, ANY);
    assert.ok(!r.ok && r.rule === 'X3', `hunkCount ${hunkCount}`);
  }
});

test('R5: fail keeps the (bounded) reason; R14: regenerate clears reviews and counts attempts', () => {
  const failed = run(stateIn('streaming'), ANY, { type: 'fail', error: 'x'.repeat(5000) });
  assert.equal(failed.error?.length, 2000);
  const stale = run(stateIn('ready'), ANY, accept(0), { type: 'anchorEdited' });
  assert.equal(stale.hunks[0]?.decision, 'accepted', 'R12 keeps decisions already applied');
  const again = run(stale, ANY, { type: 'regenerate' });
  assert.deepEqual(again, { status: 'requested', attempt: 2, hunks: [], error: null });
});

test('S1: all accepted → accepted, all rejected → rejected, mixed → partially_accepted; ready while any pending', () => {
  let s = run(stateIn('ready', 3), ANY, accept(0));
  assert.equal(s.status, 'ready');
  assert.equal(run(s, ANY, accept(1), accept(2)).status, 'accepted');
  assert.equal(run(stateIn('ready', 2), ANY, reject(1), reject(0)).status, 'rejected');
  s = run(stateIn('ready', 3), ANY, reject(1), accept(2));
  assert.equal(s.status, 'ready');
  assert.equal(run(s, ANY, accept(0)).status, 'partially_accepted');
  assert.equal(run(s, ANY, { type: 'rejectAll', actor: ed2 }).status, 'partially_accepted');
  assert.equal(run(s, ANY, { type: 'acceptAll', actor: ed2 }).status, 'partially_accepted');
});

test('S2: zero hunks: acceptAll → accepted, rejectAll → rejected, single-hunk events → X3', () => {
  assert.equal(run(stateIn('ready', 0), ANY, { type: 'acceptAll', actor: ed1 }).status, 'accepted');
  assert.equal(run(stateIn('ready', 0), ANY, { type: 'rejectAll', actor: ed1 }).status, 'rejected');
  const r = transition(stateIn('ready', 0), accept(0), ANY);
  assert.ok(!r.ok && r.rule === 'X3');
});

test('R7–R10 report exactly the hunks they newly decided', () => {
  const r1 = transition(stateIn('ready', 3), accept(1), ANY);
  assert.ok(r1.ok);
  assert.deepEqual([r1.accepted, r1.rejected], [[1], []]);
  const r2 = transition(r1.state, { type: 'rejectAll', actor: owner }, ANY);
  assert.ok(r2.ok);
  assert.deepEqual([r2.accepted, r2.rejected], [[], [0, 2]]);
  assert.equal(r2.state.hunks[0]?.decidedBy, 'o');
});

test('X4: a decided hunk is not decided again; X3: bad index or actor', () => {
  const s = run(stateIn('ready', 2), ANY, accept(0));
  for (const e of [accept(0), reject(0)]) {
    const r = transition(s, e, ANY);
    assert.ok(!r.ok && r.rule === 'X4', e.type);
  }
  for (const hunk of [2, -1, 0.5, NaN]) {
    const r = transition(s, accept(hunk), ANY);
    assert.ok(!r.ok && r.rule === 'X3', `hunk ${hunk}`);
  }
  const badActors = [undefined, {}, { userId: '', role: 'editor' }, { userId: 'x', role: 'admin' }] as unknown as Actor[];
  for (const actor of badActors) {
    const r = transition(s, { type: 'acceptHunk', hunk: 1, actor }, ANY);
    assert.ok(!r.ok && r.rule === 'X3', JSON.stringify(actor));
  }
});

test('X2: malformed event types are refused, never thrown', () => {
  const r = transition(stateIn('ready'), { type: 'explode' } as unknown as SuggestionEvent, ANY);
  assert.ok(!r.ok && r.rule === 'X2');
});

test('P1: viewers never accept, approve or reject, under every policy', () => {
  for (const policy of [anyEditor, ownerOnly, nApprovals(1), nApprovals(3)]) {
    for (const e of [accept(0, viewer), reject(0, viewer), approve(0, viewer),
      { type: 'acceptAll', actor: viewer }, { type: 'rejectAll', actor: viewer }] as SuggestionEvent[]) {
      const r = transition(stateIn('ready'), e, { policy });
      assert.ok(!r.ok && r.rule === 'P1', `${policy.kind} ${e.type}`);
    }
  }
});

test('P2: any_editor: one editor or owner decides', () => {
  assert.equal(run(stateIn('ready', 1), ANY, accept(0, ed1)).status, 'accepted');
  assert.equal(run(stateIn('ready', 1), ANY, reject(0, owner)).status, 'rejected');
});

test('P3: owner_only: editors are refused, an owner decides', () => {
  const ctx = { policy: ownerOnly };
  for (const e of [accept(0, ed1), reject(0, ed1), { type: 'acceptAll', actor: ed1 }, { type: 'rejectAll', actor: ed1 }] as SuggestionEvent[]) {
    const r = transition(stateIn('ready'), e, ctx);
    assert.ok(!r.ok && r.rule === 'P3', e.type);
  }
  assert.equal(run(stateIn('ready', 1), ctx, accept(0, owner)).status, 'accepted');
});

test('P4: n_approvals(2): accepted when the 2nd distinct approval arrives; accept and approve both vote', () => {
  const ctx = { policy: nApprovals(2) };
  const first = transition(stateIn('ready', 2), accept(0, ed1), ctx);
  assert.ok(first.ok);
  assert.deepEqual(first.accepted, []);
  assert.deepEqual(first.state.hunks[0], { decision: 'pending', approvals: ['e1'], decidedBy: null });
  const second = transition(first.state, approve(0, owner), ctx);
  assert.ok(second.ok);
  assert.deepEqual(second.accepted, [0]);
  assert.deepEqual(second.state.hunks[0], { decision: 'accepted', approvals: ['e1', 'o'], decidedBy: 'o' });
  assert.equal(second.state.status, 'ready');
});

test('P4: n_approvals: one reviewer\'s reject vetoes at once, even after approvals', () => {
  const ctx = { policy: nApprovals(3) };
  const s = run(stateIn('ready', 1), ctx, approve(0, ed1), approve(0, owner), reject(0, ed2));
  assert.deepEqual(s.hunks[0], { decision: 'rejected', approvals: ['e1', 'o'], decidedBy: 'e2' });
  assert.equal(s.status, 'rejected');
});

test('P4: n_approvals: acceptAll votes on every pending hunk; hunks reach quorum independently', () => {
  const ctx = { policy: nApprovals(2) };
  const s = run(stateIn('ready', 3), ctx, approve(1, ed2), { type: 'acceptAll', actor: ed1 });
  assert.deepEqual(s.hunks.map((h) => h.decision), ['pending', 'accepted', 'pending']);
  const r = transition(s, { type: 'acceptAll', actor: ed2 }, ctx);
  assert.ok(r.ok);
  assert.deepEqual(r.accepted, [0, 2]);
  assert.equal(r.state.status, 'accepted');
});

test('P5: a user approves a hunk at most once (approve, acceptHunk, acceptAll)', () => {
  const ctx = { policy: nApprovals(2) };
  const s = run(stateIn('ready', 1), ctx, approve(0, ed1));
  for (const e of [approve(0, ed1), accept(0, ed1), { type: 'acceptAll', actor: ed1 }] as SuggestionEvent[]) {
    const r = transition(s, e, ctx);
    assert.ok(!r.ok && r.rule === 'P5', e.type);
  }
});

test('P6: approve is refused under single-decider policies', () => {
  for (const policy of [anyEditor, ownerOnly]) {
    const r = transition(stateIn('ready'), approve(0, owner), { policy });
    assert.ok(!r.ok && r.rule === 'P6', policy.kind);
  }
});

const edited = (hunk: number): SuggestionEvent => ({ type: 'hunkEdited', hunk });

test('R15: an edit inside one hunk stales only that hunk: the others stay acceptable; X5 refuses accepting or voting for it', () => {
  const s = run(stateIn('ready', 6), ANY, edited(2));
  assert.equal(s.status, 'ready');
  assert.deepEqual(s.hunks.map((h) => h.stale === true), [false, false, true, false, false, false]);
  for (const e of [accept(2), approve(2, ed1)]) {
    const r = transition(s, e, e.type === 'approve' ? { policy: nApprovals(2) } : ANY);
    assert.ok(!r.ok && r.rule === 'X5', JSON.stringify(r));
  }
  const again = transition(s, edited(2), ANY);
  assert.ok(!again.ok && again.rule === 'X5');
  // Accept all applies exactly the five intact hunks; the stale one is left for a decision.
  const all = transition(s, { type: 'acceptAll', actor: ed1 }, ANY);
  assert.ok(all.ok);
  assert.deepEqual(all.accepted, [0, 1, 3, 4, 5]);
  assert.equal(all.state.status, 'stale', 'only stale hunks pending: regenerate or cancel');
  // Rejecting the stale hunk decides it (and forgets that it was stale).
  const r = run(s, ANY, reject(2), { type: 'acceptAll', actor: ed1 });
  assert.equal(r.status, 'partially_accepted');
  assert.equal(r.hunks[2]!.stale, undefined);
});

test('R15: a decided hunk cannot go stale (X4); the last intact pending hunk decided with stale ones left → stale', () => {
  const s = run(stateIn('ready', 3), ANY, accept(0), edited(1));
  const late = transition(s, edited(0), ANY);
  assert.ok(!late.ok && late.rule === 'X4');
  assert.equal(run(s, ANY, reject(2)).status, 'stale');
  assert.equal(run(s, ANY, edited(2)).status, 'stale');
  assert.equal(run(s, ANY, { type: 'rejectAll', actor: ed1 }).status, 'partially_accepted');
});

test('R8: when only stale hunks are left, each can still be rejected; the suggestion settles once none is pending', () => {
  const s = run(stateIn('ready', 3), ANY, accept(0), edited(1), edited(2));
  assert.equal(s.status, 'stale');
  const one = run(s, ANY, reject(1));
  assert.equal(one.status, 'stale', 'hunk 2 is still pending (and stale)');
  assert.deepEqual(one.hunks.map((h) => h.decision), ['accepted', 'rejected', 'pending']);
  assert.equal(run(one, ANY, reject(2)).status, 'partially_accepted');
  // Still refused: accepting a stale hunk (nothing applies from `stale`), and viewers rejecting.
  assert.ok(!transition(s, accept(1), ANY).ok);
  const byViewer = transition(s, reject(1, viewer), ANY);
  assert.ok(!byViewer.ok && byViewer.rule === 'P1');
  // A whole-range stale suggestion (R12) with pending hunks stays stale while rejecting them.
  const whole = run(stateIn('ready', 2), ANY, { type: 'anchorEdited' }, reject(0));
  assert.equal(whole.status, 'stale');
  assert.equal(run(whole, ANY, reject(1)).status, 'rejected');
});

test('parseSuggestionState accepts stored states and refuses anything else', () => {
  const s = run(stateIn('ready', 3), { policy: nApprovals(2) }, approve(0, ed1), reject(1, ed2), edited(2));
  assert.deepEqual(parseSuggestionState(JSON.parse(JSON.stringify(s))), s);
  const bad = [null, 'ready', { ...s, status: 'done' }, { ...s, attempt: 0 }, { ...s, hunks: [{ decision: 'maybe', approvals: [], decidedBy: null }] },
    { ...s, hunks: [{ decision: 'pending', approvals: [1], decidedBy: null }] }, { ...s, hunks: [{ decision: 'pending', approvals: [], decidedBy: null, stale: 'yes' }] },
    { ...s, error: 5 }];
  for (const v of bad) assert.throws(() => parseSuggestionState(v), { name: 'AppError', code: 'BAD_INPUT' }, JSON.stringify(v));
});

test('random event sequences stay inside each rule\'s declared targets; terminal states absorb (seeded)', () => {
  const seed = testSeed();
  const random = new SeededRandom(seed);
  const actors = [owner, ed1, ed2, viewer];
  const policies = [anyEditor, ownerOnly, nApprovals(2), nApprovals(3)];
  try {
    for (let run = 0; run < 300; run++) {
      const ctx = { policy: random.pick(policies) };
      let state = initialSuggestionState();
      for (let step = 0; step < 40; step++) {
        const type = random.pick(SUGGESTION_EVENT_TYPES);
        const event = { type, hunkCount: random.int(0, 4), hunk: random.int(0, 4), actor: random.pick(actors), error: 'e' } as SuggestionEvent;
        const r = transition(state, event, ctx);
        if (r.ok) {
          const rule = TRANSITION_RULES.find((x) => x.id === r.rule)!;
          assert.ok(rule.from.includes(state.status) && rule.to.includes(r.state.status), `${r.rule}: ${state.status} → ${r.state.status}`);
          const decision = ['R7', 'R8', 'R9', 'R10', 'R11'].includes(r.rule);
          assert.ok(!(decision && 'actor' in event && event.actor.role === 'viewer'), 'a viewer decided');
          state = r.state;
        } else if (TERMINAL.includes(state.status)) {
          assert.equal(r.rule, 'X1');
        }
      }
    }
  } catch (e) {
    console.error(`suggestion machine fuzz failed; replay with SEED=${seed}`);
    throw e;
  }
});
