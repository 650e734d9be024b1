import type { SuggestionStatus } from '@tandem/review';

/**
 * What participants receive about shared AI edits, on the project channel of the EventHub (every
 * member's one SSE stream). Two event types:
 *
 *   SUGGESTION_EVENT  a full `SuggestionView`, sent when a suggestion is created and whenever its
 *                     status, hunks or decisions change. Replaces what the client had.
 *   FRAME_EVENT       a `SuggestionFrame` while it streams: the code text that arrived since the
 *                     previous frame (coalesced: one frame per event-loop turn, never delaying the
 *                     first) plus the display diff and live metrics. Small: the diff refers to
 *                     the text by offsets instead of repeating it.
 *
 * A client that misses a frame (`offset` is not the length it has) or gets `resync` refetches
 * `suggestions.list`. Nothing streamed is ever written to the Yjs document: a suggestion enters
 * the file only when a hunk is accepted.
 */
export const SUGGESTION_EVENT = 'suggestion' as const;
export const FRAME_EVENT = 'suggestion.frame' as const;
/**
 * How often a streaming suggestion's display diff is recomputed (~ one display frame). The diff
 * of a long rewrite costs about a millisecond; computing it for every frame at 3,000 tok/s
 * would spend half a core on it and delay the frames behind it.
 */
export const DISPLAY_INTERVAL_MS = 16;

export interface UserRef {
  id: string;
  name: string;
}

export interface LiveMetrics {
  /** Request start to first token, ms. */
  ttftMs: number | null;
  tokens: number;
  /** Streaming rate after the first token. */
  tokensPerSecond: number | null;
  durationMs: number | null;
}

/**
 * A change to show inline. While streaming: against the suggestion's `baseText` (at its range):
 * replace base[start, end) with `inserted`. Streaming frames send it as `[start, end,
 * insertedLength]`; the inserted text is then `proposedText.slice(start + shift, start + shift +
 * insertedLength)`, where `shift` is the sum of (insertedLength - (end - start)) over the earlier
 * display hunks (outside hunks the proposal equals the base).
 * Ready: each pending hunk on its own `hunkAnchor` (offsets into `anchorText`, the anchored lines),
 * so it stays in place, or shows stale, whatever happens to the other hunks' lines.
 */
export interface DisplayHunk {
  start: number;
  end: number;
  inserted: string;
  /** The reviewable hunk this is (ready suggestions); null while streaming. */
  index: number | null;
  /** Ready suggestions: where this hunk sits (Yjs relative positions, base64) and the text it expects there. */
  hunkAnchor?: { start: string; end: string; text: string };
  /** Someone edited this hunk's lines (the server said so): it will not apply. */
  stale?: boolean;
}

export type CompactDisplayHunk = [start: number, end: number, insertedLength: number];

export interface HunkView {
  index: number;
  removed: string;
  inserted: string;
  decision: 'pending' | 'accepted' | 'rejected';
  /** Distinct approvers so far (n_approvals shows names), in order. */
  approvals: UserRef[];
  decidedBy: UserRef | null;
  decidedAt: string | null;
  /** A pending hunk whose lines someone edited: it can only be rejected (or the suggestion regenerated). */
  stale: boolean;
  /** The hunk's own anchor in the file (base64 relative positions), for comment threads on it; null before ready. */
  anchor: { start: string; end: string } | null;
}

export type ApprovalPolicyView = { kind: 'any_editor' } | { kind: 'owner_only' } | { kind: 'n_approvals'; n: number };

export interface SuggestionView {
  id: string;
  projectId: string;
  fileId: string;
  /** The file's path when it was requested. */
  path: string;
  /** 1-based lines of the requested range, when it was requested. */
  startLine: number;
  endLine: number;
  requester: UserRef;
  instruction: string;
  providerId: string;
  providerLabel: string;
  model: string;
  status: SuggestionStatus;
  attempt: number;
  error: string | null;
  /** The anchored range: two encoded Yjs relative positions, base64. Resolve them on your copy. */
  anchor: { start: string; end: string };
  /** The text of the anchored range this attempt was computed from. */
  baseText: string;
  /** The proposed replacement so far (code only; Markdown fences stripped). */
  proposedText: string;
  /** What to draw over the code now: pending hunks (ready) or the streaming diff. */
  display: DisplayHunk[];
  hunks: HunkView[];
  policy: ApprovalPolicyView;
  metrics: LiveMetrics;
  undone: { by: UserRef; at: string } | null;
  createdAt: string;
  updatedAt: string;
}

export interface SuggestionFrame {
  id: string;
  attempt: number;
  /** Length of `proposedText` before `text`: a client whose length differs missed a frame. */
  offset: number;
  text: string;
  /**
   * The display diff, recomputed at most every DISPLAY_INTERVAL_MS (the text itself is never
   * held back for it); null: keep the previous one. It describes `proposedText.slice(0,
   * displayLength)`; text after that belongs to the last display hunk if that hunk reaches
   * `displayLength` (the usual trailing insertion), else it is not shown until the next diff.
   */
  display: CompactDisplayHunk[] | null;
  displayLength: number;
  metrics: LiveMetrics;
}

export interface ActivityEvent {
  kind: string;
  user: UserRef | null;
  hunkIndex: number | null;
  at: string;
  detail: string | null;
}

/** One row of a project's AI activity: the record of a suggestion and everything done with it. */
export interface ActivityEntry {
  id: string;
  fileId: string;
  path: string;
  startLine: number;
  endLine: number;
  requester: UserRef;
  instruction: string;
  providerId: string;
  /** The provider's name as the deployment configured it ("Cerebras", "Local GGUF"), or its id if it is gone. */
  providerLabel: string;
  model: string;
  status: SuggestionStatus;
  attempt: number;
  error: string | null;
  ttftMs: number | null;
  tokens: number;
  tokensPerSecond: number | null;
  hunks: HunkView[];
  events: ActivityEvent[];
  undone: { by: UserRef; at: string } | null;
  createdAt: string;
}

declare module '@tandem/protocol' {
  interface ProjectStreamEvents {
    suggestion: SuggestionView;
    'suggestion.frame': SuggestionFrame;
  }
}
