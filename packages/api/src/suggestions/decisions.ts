import { AppError } from '@tandem/protocol';
import type { SuggestionEvent, SuggestionState, TransitionResult } from '@tandem/review';
import type { NewReviewEvent } from './SuggestionStore.ts';
import type { DecisionAction, ReviewActor } from './serviceTypes.ts';

/** A reviewer's action as an event of the review state machine. */
export function decisionEvent(action: DecisionAction, actor: ReviewActor): SuggestionEvent {
  const who = { userId: actor.userId, role: actor.role };
  return 'hunk' in action ? { type: action.type, hunk: action.hunk, actor: who } : { type: action.type, actor: who };
}

/** One review event per hunk the decision touched: a vote that did not decide yet, an accept or a reject. */
export function decisionEvents(suggestionId: string, before: SuggestionState, result: Extract<TransitionResult, { ok: true }>, actor: ReviewActor, action: DecisionAction): NewReviewEvent[] {
  const events: NewReviewEvent[] = [];
  const via = action.type === 'acceptAll' || action.type === 'rejectAll' ? { via: action.type } : undefined;
  result.state.hunks.forEach((after, i) => {
    const previous = before.hunks[i]!;
    let kind: NewReviewEvent['kind'] | null = null;
    if (result.accepted.includes(i)) kind = 'accepted';
    else if (result.rejected.includes(i)) kind = 'rejected';
    else if (after.approvals.length > previous.approvals.length) kind = 'approved';
    if (kind) events.push({ suggestionId, kind, userId: actor.userId, hunkIndex: i, ...(via ? { detail: via } : {}) });
  });
  return events;
}

const REFUSAL_MESSAGES: Record<string, (state: SuggestionState) => AppError> = {
  P1: () => new AppError('FORBIDDEN', 'Viewers cannot accept or reject AI edits.'),
  P3: () => new AppError('FORBIDDEN', 'Only the project owner can accept or reject AI edits in this project.'),
  P5: () => new AppError('CONFLICT', 'You already approved this; it needs approvals from other people.'),
  P6: () => new AppError('BAD_INPUT', 'This project does not collect approvals: accept the hunk instead.'),
  X1: (s) => new AppError('CONFLICT', `This suggestion is already ${statusLabel(s.status)}.`),
  X2: (s) => new AppError('CONFLICT', `Not possible while the suggestion is ${statusLabel(s.status)}.`),
  X3: () => new AppError('BAD_INPUT', 'There is no such hunk in this suggestion.'),
  X4: () => new AppError('CONFLICT', 'That hunk was already decided.'),
  X5: () => new AppError('CONFLICT', 'Someone edited the lines of that change after the suggestion was made, so it is stale: reject it, or regenerate the suggestion once the rest is decided.'),
};

/** The machine's refusal as a user-facing error; the rule and reason go in the detail. */
export function refusalError(result: Extract<TransitionResult, { ok: false }>, state: SuggestionState): AppError {
  const make = REFUSAL_MESSAGES[result.rule] ?? (() => new AppError('CONFLICT', 'Not possible now.'));
  const error = make(state);
  return new AppError(error.code, error.message, `${result.rule}: ${result.reason}`);
}

export function statusLabel(status: SuggestionState['status']): string {
  return status.replace('_', ' ');
}
