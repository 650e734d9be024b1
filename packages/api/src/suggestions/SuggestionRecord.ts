import {
  applyHunksToText, parseSuggestionState, rebaseHunks, type Anchor, type Hunk, type HunkReview, type SuggestionState,
} from '@tandem/review';
import { AppError } from '@tandem/protocol';
import type { LiveMetrics } from './suggestionEvents.ts';

/**
 * One suggestion as the server holds it. What is stored (the Suggestion row) is the request, the
 * ORIGINAL base of the current attempt, the final hunks against that base with their reviews,
 * and the CURRENT anchor; everything else is derived — after partial accepts the current base is
 * the original with the accepted hunks applied, and the undecided hunks are rebased onto it —
 * so a restart rebuilds exactly what was in memory.
 */
export interface SuggestionRecord {
  readonly id: string;
  readonly projectId: string;
  readonly fileId: string;
  readonly requesterId: string;
  readonly instruction: string;
  readonly createdAt: Date;
  /** Where and what was asked (per attempt: a regenerate re-anchors). */
  path: string;
  startLine: number;
  endLine: number;
  providerId: string;
  providerLabel: string;
  model: string;
  state: SuggestionState;
  /** The anchored text this attempt was computed from. */
  originalBase: string;
  /** Final hunks of this attempt (empty until ready), offsets into `originalBase`. */
  hunks: Hunk[];
  /** ISO time each hunk was decided, by hunk index. */
  decidedAt: (string | null)[];
  /** Current anchor: moves to cover the edited range after each accept. */
  anchor: Anchor;
  /** Current text of the anchored range as far as the suggestion knows (original + accepted hunks). */
  baseText: string;
  /** Hunks not applied yet, rebased onto `baseText` (same `index`). */
  unapplied: Hunk[];
  /** Proposed code so far (final once ready). */
  proposed: string;
  metrics: LiveMetrics;
  undone: { userId: string; at: string } | null;
  updatedAt: Date;
}

export const OPEN_STATUSES = ['requested', 'streaming', 'ready', 'stale'] as const;

export function isOpen(record: SuggestionRecord): boolean {
  return (OPEN_STATUSES as readonly string[]).includes(record.state.status);
}

/** Stored per hunk in `Suggestion.hunks`: the hunk (original offsets) and its review. */
export interface StoredHunk extends Hunk, HunkReview {
  decidedAt: string | null;
}

export function storedHunks(record: SuggestionRecord): StoredHunk[] {
  return record.hunks.map((h, i) => ({ ...h, ...record.state.hunks[i]!, decidedAt: record.decidedAt[i] ?? null }));
}

export function acceptedIndices(state: SuggestionState): number[] {
  return state.hunks.flatMap((h, i) => (h.decision === 'accepted' ? [i] : []));
}

/** Rebuilds hunks, reviews and the derived current base from stored JSON; throws AppError when it does not fit. */
export function restoreHunks(originalBase: string, stored: unknown, status: SuggestionState['status'], attempt: number, error: string | null) {
  if (!Array.isArray(stored)) throw new AppError('BAD_INPUT', 'Stored suggestion hunks are invalid.');
  const hunks: Hunk[] = stored.map((s: StoredHunk) => ({ index: s.index, start: s.start, end: s.end, removed: s.removed, inserted: s.inserted }));
  const state = parseSuggestionState({
    status,
    attempt,
    error,
    hunks: stored.map((s: StoredHunk) => ({ decision: s.decision, approvals: s.approvals, decidedBy: s.decidedBy })),
  });
  const accepted = acceptedIndices(state);
  const baseText = applyHunksToText(originalBase, hunks, accepted); // validates the hunks against the base
  return {
    hunks,
    state,
    decidedAt: stored.map((s: StoredHunk) => (typeof s.decidedAt === 'string' ? s.decidedAt : null)),
    baseText,
    unapplied: rebaseHunks(hunks, accepted),
  };
}

export function emptyMetrics(): LiveMetrics {
  return { ttftMs: null, tokens: 0, tokensPerSecond: null, durationMs: null };
}
