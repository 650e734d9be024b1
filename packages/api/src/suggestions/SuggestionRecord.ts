import {
  assertHunksFit, parseSuggestionState, type Anchor, type ChangesetHunk, type Hunk, type HunkReview, type SuggestionState,
} from '@tandem/review';
import { randomUUID } from 'node:crypto';
import { AppError } from '@tandem/protocol';
import type { InferenceProvider } from '@tandem/inference';
import type { Target } from './SuggestionAnchoring.ts';
import type { EditRequest } from './serviceTypes.ts';
import type { LiveMetrics } from './suggestionEvents.ts';

/**
 * One suggestion as the server holds it, and as it is stored (the Suggestion row): the request,
 * the base of the current attempt with the range's anchor, and the final hunks against that base
 * with their reviews and their own anchors — so a restart rebuilds exactly what was in memory.
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
  baseText: string;
  /** Final hunks of this attempt (empty until ready), offsets into `baseText`: what reviewers see. */
  hunks: Hunk[];
  /**
   * The same hunks, each anchored on its own in the live file (`anchorHunks`: an insertion takes
   * a context line), by index: what is checked and applied, so an edit inside one hunk's lines
   * stales only that hunk. Empty until ready.
   */
  anchored: ChangesetHunk[];
  /** ISO time each hunk was decided, by hunk index. */
  decidedAt: (string | null)[];
  /** The whole range: checked while streaming (no hunks yet), moved to cover accepted text, re-anchored by a regenerate. */
  anchor: Anchor;
  /** Proposed code so far (final once ready). */
  proposed: string;
  metrics: LiveMetrics;
  undone: { userId: string; at: string } | null;
  updatedAt: Date;
}

/** A new suggestion for `target` (the anchored range), requested by `requesterId`. */
export function newSuggestion(requesterId: string, input: EditRequest, path: string, target: Target): SuggestionRecord {
  const now = new Date();
  const record = {
    id: randomUUID(),
    projectId: input.projectId,
    fileId: input.fileId,
    requesterId,
    instruction: input.instruction,
    createdAt: now,
    updatedAt: now,
    undone: null,
  } as const;
  return { ...record, ...attempt({ status: 'requested', attempt: 1, hunks: [], error: null }, target, input.provider, path) };
}

/** Starts a new attempt of `record` on `target` (R14): new base and anchor, nothing generated or decided yet. */
export function newAttempt(record: SuggestionRecord, state: SuggestionState, target: Target, provider: InferenceProvider): void {
  Object.assign(record, attempt(state, target, provider, record.path));
}

function attempt(state: SuggestionState, target: Target, provider: InferenceProvider, path: string) {
  return {
    path, state, anchor: target.anchor, baseText: target.baseText, hunks: [], anchored: [], decidedAt: [], proposed: '', metrics: emptyMetrics(),
    startLine: target.startLine, endLine: target.endLine, providerId: provider.id, providerLabel: provider.label, model: provider.model,
  } satisfies Partial<SuggestionRecord>;
}

export const OPEN_STATUSES = ['requested', 'streaming', 'ready', 'stale'] as const;

export function isOpen(record: SuggestionRecord): boolean {
  return (OPEN_STATUSES as readonly string[]).includes(record.state.status);
}

/** An anchored hunk as JSON (anchor bytes in base64). */
interface StoredAnchor {
  start: number;
  end: number;
  removed: string;
  inserted: string;
  anchorStart: string;
  anchorEnd: string;
}

/** Stored per hunk in `Suggestion.hunks`: the hunk (base offsets), its review, and its anchor. */
export interface StoredHunk extends Hunk, HunkReview {
  decidedAt: string | null;
  /** Absent in rows written before hunks were anchored one by one. */
  anchored?: StoredAnchor;
}

export function storedHunks(record: SuggestionRecord): StoredHunk[] {
  return record.hunks.map((h, i) => {
    const a = record.anchored[i];
    return {
      ...h, ...record.state.hunks[i]!, decidedAt: record.decidedAt[i] ?? null,
      ...(a ? { anchored: { start: a.start, end: a.end, removed: a.removed, inserted: a.inserted, anchorStart: base64(a.anchor.start), anchorEnd: base64(a.anchor.end) } } : {}),
    };
  });
}

export function acceptedIndices(state: SuggestionState): number[] {
  return state.hunks.flatMap((h, i) => (h.decision === 'accepted' ? [i] : []));
}

/**
 * Rebuilds hunks, reviews and anchors from stored JSON; throws AppError when it does not fit.
 * `anchored` is empty for rows from before per-hunk anchors (the service marks such a ready one stale).
 */
export function restoreHunks(baseText: string, stored: unknown, status: SuggestionState['status'], attempt: number, error: string | null) {
  if (!Array.isArray(stored)) throw new AppError('BAD_INPUT', 'Stored suggestion hunks are invalid.');
  const rows = stored as StoredHunk[];
  const hunks: Hunk[] = rows.map((s) => ({ index: s.index, start: s.start, end: s.end, removed: s.removed, inserted: s.inserted }));
  assertHunksFit(baseText, hunks);
  const state = parseSuggestionState({
    status,
    attempt,
    error,
    hunks: rows.map((s) => ({ decision: s.decision, approvals: s.approvals, decidedBy: s.decidedBy, ...(s.stale ? { stale: s.stale } : {}) })),
  });
  return {
    hunks,
    state,
    decidedAt: rows.map((s) => (typeof s.decidedAt === 'string' ? s.decidedAt : null)),
    anchored: rows.every((s) => s.anchored) ? rows.map((s, i) => restoreAnchor(s.anchored!, hunks[i]!.index)) : [],
  };
}

function restoreAnchor(a: StoredAnchor, index: number): ChangesetHunk {
  const ok = typeof a === 'object' && a !== null && typeof a.removed === 'string' && typeof a.inserted === 'string' &&
    Number.isInteger(a.start) && Number.isInteger(a.end) && a.end - a.start === a.removed.length &&
    typeof a.anchorStart === 'string' && typeof a.anchorEnd === 'string';
  if (!ok) throw new AppError('BAD_INPUT', 'Stored suggestion hunks are invalid.', `anchor of hunk ${index}`);
  return {
    index, start: a.start, end: a.end, removed: a.removed, inserted: a.inserted,
    anchor: { start: new Uint8Array(Buffer.from(a.anchorStart, 'base64')), end: new Uint8Array(Buffer.from(a.anchorEnd, 'base64')) },
  };
}

function base64(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString('base64');
}

export function emptyMetrics(): LiveMetrics {
  return { ttftMs: null, tokens: 0, tokensPerSecond: null, durationMs: null };
}
