'use client';
import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import Link from 'next/link';
import type { ApprovalPolicyView, HunkView } from '@tandem/api';
import { Avatar } from '@/components/Avatar';
import { CommentButton, HunkComments, threadsOn } from '@/components/comments/HunkComments';
import type { Comments } from '@/lib/comments/useComments';
import { formatMetricsText } from '@/lib/review/formatMetrics';
import type { LiveSuggestion } from '@/lib/review/ProjectSuggestions';
import type { Review } from '@/lib/review/useReview';
import './review.css';

type Role = 'owner' | 'editor' | 'viewer';

export interface ReviewPanelProps {
  review: Review;
  role: Role | null;
  /** Path of a file id, for labels. */
  pathOf(fileId: string): string;
  /** Shows a file in the editor (a hunk of another file was selected). */
  onOpenFile(fileId: string): void;
  /** The project's comment threads: those on a hunk show under it, and anyone may start one there. */
  comments: Comments;
  meId: string | null;
}

interface Cursor {
  id: string;
  hunk: number;
}

const STATUS_TEXT: Record<string, string> = {
  requested: 'waiting', streaming: 'streaming', ready: 'ready', stale: 'stale', accepted: 'accepted',
  rejected: 'rejected', partially_accepted: 'partly accepted', conflict: 'conflict', failed: 'failed', cancelled: 'cancelled',
};

function mayDecide(policy: ApprovalPolicyView, role: Role | null): boolean {
  if (role === null || role === 'viewer') return false;
  return policy.kind !== 'owner_only' || role === 'owner';
}

/**
 * The review panel: the project's open AI edits per file, each split into hunks to accept or
 * reject (or approve, under n approvals), accept/reject all, cancel, regenerate, and undo for
 * recently accepted ones. Keyboard: ↑/↓ (or j/k) move between hunks, A accepts, R rejects, Enter
 * shows the hunk in the editor. Everyone's decisions appear live (they arrive as events). A hunk
 * someone edited since is marked stale (reject it; the others stay acceptable). Anyone can
 * comment on a hunk: the thread shows under it, and in the editor and Comments panel, for all.
 */
export function ReviewPanel({ review, role, pathOf, onOpenFile, comments, meId }: ReviewPanelProps) {
  const { snapshot } = review;
  const [chosen, setCursor] = useState<Cursor | null>(null);
  const panel = useRef<HTMLElement>(null);

  // Every hunk that can be navigated to, in panel order.
  const stops = useMemo(() => snapshot.open.filter((s) => s.status === 'ready').flatMap((s) => s.hunks.map((h) => ({ s, h }))), [snapshot.open]);
  // Until someone picks a hunk (or after theirs is gone), the first pending one is selected, so
  // A / R work at once.
  const cursor = useMemo<Cursor | null>(() => {
    if (chosen && stops.some((x) => x.s.id === chosen.id && x.h.index === chosen.hunk)) return chosen;
    const first = stops.find((x) => x.h.decision === 'pending');
    return first ? { id: first.s.id, hunk: first.h.index } : null;
  }, [chosen, stops]);

  const select = useCallback((next: Cursor | null, reveal = true) => {
    setCursor(next);
    if (!next) return review.focus(null, null);
    const s = snapshot.open.find((x) => x.id === next.id);
    if (s && reveal) onOpenFile(s.fileId);
    // Wait a frame so a newly opened file is in the editor before revealing the hunk.
    requestAnimationFrame(() => review.focus(next.id, next.hunk));
  }, [review, snapshot.open, onOpenFile]);

  // The editor's "Review" button asks for a suggestion: select its first pending hunk.
  useEffect(() => {
    const request = review.reviewRequest;
    if (!request) return;
    const s = snapshot.open.find((x) => x.id === request.id);
    const first = s?.hunks.find((h) => h.decision === 'pending');
    if (s && first) select({ id: s.id, hunk: first.index }, false);
    panel.current?.focus();
    // Only a new request re-runs this; the snapshot it reads is the one current at that moment.
  }, [review.reviewRequest]);

  const onKeyDown = (e: React.KeyboardEvent) => {
    if ((e.target as HTMLElement).closest('input, textarea, form')) return;
    const at = cursor ? stops.findIndex((x) => x.s.id === cursor.id && x.h.index === cursor.hunk) : -1;
    const move = (delta: 1 | -1) => {
      if (stops.length === 0) return;
      const index = at < 0 ? (delta > 0 ? 0 : stops.length - 1) : (at + delta + stops.length) % stops.length;
      const next = stops[index]!;
      select({ id: next.s.id, hunk: next.h.index });
    };
    const current = at >= 0 ? stops[at] : undefined;
    // After a decision, the next pending hunk (if any) is selected: review is A/R, A/R, …
    const advance = () => {
      const next = stops.find((x, i) => i > at && x.h.decision === 'pending');
      if (next) select({ id: next.s.id, hunk: next.h.index });
    };
    switch (e.key) {
      case 'ArrowDown': case 'j': move(1); break;
      case 'ArrowUp': case 'k': move(-1); break;
      case 'a': case 'A':
        if (current && current.h.decision === 'pending' && !current.h.stale) {
          void review.run({ kind: current.s.policy.kind === 'n_approvals' ? 'approve' : 'acceptHunk', id: current.s.id, hunk: current.h.index });
          advance();
        }
        break;
      case 'r': case 'R':
        if (current && current.h.decision === 'pending') {
          void review.run({ kind: 'rejectHunk', id: current.s.id, hunk: current.h.index });
          advance();
        }
        break;
      case 'Enter':
        if (current) select({ id: current.s.id, hunk: current.h.index });
        break;
      default:
        return;
    }
    e.preventDefault();
  };

  const byFile = useMemo(() => {
    const groups = new Map<string, LiveSuggestion[]>();
    for (const s of snapshot.open) groups.set(s.fileId, [...(groups.get(s.fileId) ?? []), s]);
    return [...groups];
  }, [snapshot.open]);

  const canRequest = role === 'owner' || role === 'editor';

  return (
    <aside className="review-panel" data-testid="review-panel" ref={panel} tabIndex={0} onKeyDown={onKeyDown} aria-label="AI edits to review">
      <div className="ide-section-head">
        <span>AI edits</span>
        <span className="count">{snapshot.open.length}</span>
        <span className="spacer" />
        <Link className="button small-button" href={`/projects/${review.projectId}/activity`} prefetch={false} title="Who asked for and decided every AI edit">Activity</Link>
        <button className="small-button ai-edit-button" onClick={review.openPrompt} disabled={!canRequest} title={canRequest ? 'Ask the AI to edit the selection, or the whole file (Ctrl/Cmd+K in the editor)' : 'Viewers cannot ask for AI edits'}>
          ✦ AI edit
        </button>
      </div>
      {snapshot.error && <div className="review-error" role="alert">{snapshot.error}</div>}
      <div className="review-scroll">
        {snapshot.open.length === 0 && (
          <p className="review-empty muted small">
            Select some code and press <kbd>Ctrl</kbd>+<kbd>K</kbd> (or ✦ AI edit) to ask for a change. Everyone in the project sees it stream in and can review it, hunk by hunk.
          </p>
        )}
        {byFile.map(([fileId, list]) => (
          <section key={fileId} className="review-file">
            <button className="review-file-name" onClick={() => onOpenFile(fileId)} title="Show in the editor">{pathOf(fileId) || list[0]!.path}</button>
            {list.map((s) => (
              <SuggestionCard key={s.id} s={s} role={role} cursor={cursor} review={review} onSelect={(hunk) => select({ id: s.id, hunk })} comments={comments} meId={meId} />
            ))}
          </section>
        ))}
        {snapshot.closed.length > 0 && (
          <section className="review-closed">
            <div className="review-subhead">Closed in this session</div>
            {snapshot.closed.map((s) => <ClosedCard key={s.id} s={s} role={role} review={review} />)}
          </section>
        )}
      </div>
      <div className="review-keys muted">↑↓ hunks · <kbd>A</kbd> accept · <kbd>R</kbd> reject · <kbd>Enter</kbd> show</div>
    </aside>
  );
}

interface CardProps {
  s: LiveSuggestion;
  role: Role | null;
  cursor: Cursor | null;
  review: Review;
  onSelect(hunk: number): void;
  comments: Comments;
  meId: string | null;
}

function SuggestionCard({ s, role, cursor, review, onSelect, comments, meId }: CardProps) {
  const decide = mayDecide(s.policy, role);
  const live = s.status === 'requested' || s.status === 'streaming';
  const mayCancel = role !== null && role !== 'viewer';
  return (
    <div className={`review-card status-${s.status}`} data-testid="suggestion-card" data-status={s.status} data-suggestion={s.id}>
      <div className="review-card-head">
        <Avatar name={s.requester.name} id={s.requester.id} />
        <span><strong>{s.requester.name}</strong> <span className="muted">asked</span> <span className="review-model">{s.model}</span></span>
        <span className={`review-status status-${s.status}`}>{STATUS_TEXT[s.status]}</span>
      </div>
      <div className="review-instruction">“{s.instruction}”</div>
      <div className="review-meta muted small">
        lines {s.startLine}–{s.endLine} · {s.providerLabel}
        {formatMetricsText(s.metrics) && <> · <span data-testid="suggestion-metrics">{formatMetricsText(s.metrics)}</span></>}
      </div>
      {live && (
        <div className="review-actions">
          <span className="review-streaming muted small">{s.status === 'requested' ? 'Waiting for the first token…' : `${s.proposedText.split('\n').length} lines so far`}</span>
          {mayCancel && <button className="small-button" onClick={() => void review.run({ kind: 'cancel', id: s.id })}>Cancel</button>}
        </div>
      )}
      {s.status === 'stale' && (
        <div className="review-stale">
          {s.hunks.some((h) => h.stale)
            ? 'Someone edited the lines of the changes still pending after the suggestion was made, so they no longer apply.'
            : 'Someone edited this code after the suggestion was made, so it no longer applies.'}
          {/* Each pending hunk can still be rejected on its own (R8); none can be accepted. */}
          {s.hunks.map((h) => (
            <HunkRow key={h.index} s={s} h={h.decision === 'pending' ? { ...h, stale: true } : h} decide={decide} selected={cursor?.id === s.id && cursor.hunk === h.index} review={review}
              onSelect={() => onSelect(h.index)} comments={comments} canModerate={role === 'owner' || role === 'editor'} meId={meId} />
          ))}
          <div className="review-actions">
            <button className="small-button primary" disabled={!mayCancel} onClick={() => void review.run({ kind: 'regenerate', id: s.id })}>Regenerate on current code</button>
            <button className="small-button" disabled={!mayCancel} onClick={() => void review.run({ kind: 'cancel', id: s.id })}>Discard</button>
          </div>
        </div>
      )}
      {s.status === 'ready' && (
        <>
          {s.hunks.length === 0 && <p className="muted small">The model suggested no change.</p>}
          {s.hunks.map((h) => (
            <HunkRow key={h.index} s={s} h={h} decide={decide} selected={cursor?.id === s.id && cursor.hunk === h.index} review={review} onSelect={() => onSelect(h.index)}
              comments={comments} canModerate={role === 'owner' || role === 'editor'} meId={meId} />
          ))}
          <div className="review-actions">
            {s.policy.kind === 'n_approvals' && <span className="muted small">Each hunk needs {s.policy.n} approvals.</span>}
            {!decide && <span className="muted small">{role === 'viewer' ? 'Viewers can watch but not decide.' : 'Only the owner decides in this project.'}</span>}
            <span className="spacer" />
            {decide && <button className="small-button" onClick={() => void review.run({ kind: 'rejectAll', id: s.id })}>Reject all</button>}
            {decide && <button className="small-button primary" onClick={() => void review.run({ kind: 'acceptAll', id: s.id })}>{s.policy.kind === 'n_approvals' ? 'Approve all' : 'Accept all'}</button>}
          </div>
        </>
      )}
    </div>
  );
}

interface HunkRowProps {
  s: LiveSuggestion;
  h: HunkView;
  decide: boolean;
  selected: boolean;
  review: Review;
  onSelect(): void;
  comments: Comments;
  canModerate: boolean;
  meId: string | null;
}

function HunkRow({ s, h, decide, selected, review, onSelect, comments, canModerate, meId }: HunkRowProps) {
  const votes = s.policy.kind === 'n_approvals';
  const [drafting, setDrafting] = useState(false);
  const anchor = h.anchor;
  const threads = anchor ? threadsOn(comments, s.id, anchor) : [];
  const stop = (e: React.MouseEvent) => e.stopPropagation();
  return (
    <div className={`review-hunk${selected ? ' selected' : ''} decision-${h.decision}${h.stale ? ' stale' : ''}`} data-testid="hunk" data-hunk={h.index} data-decision={h.decision} data-stale={h.stale} onClick={onSelect}>
      <div className="review-hunk-head">
        <span>Hunk {h.index + 1}</span>
        {h.decision !== 'pending' && <span className={`review-decision ${h.decision}`}>{h.decision} by {h.decidedBy?.name}</span>}
        {h.decision === 'pending' && h.stale && <span className="review-hunk-stale" title="Someone edited these lines after the AI proposed this change: it will not be applied. Reject it, or regenerate once the rest is decided.">stale: edited since</span>}
        {h.decision === 'pending' && votes && <span className="muted small">{h.approvals.length}/{s.policy.kind === 'n_approvals' ? s.policy.n : 1} approvals{h.approvals.length > 0 ? `: ${h.approvals.map((u) => u.name).join(', ')}` : ''}</span>}
        <span className="spacer" />
        {anchor && !drafting && <CommentButton count={threads.length} onClick={() => setDrafting(true)} />}
        {h.decision === 'pending' && decide && (
          <>
            <button className="small-button" onClick={(e) => { stop(e); void review.run({ kind: 'rejectHunk', id: s.id, hunk: h.index }); }}>Reject</button>
            {!h.stale && <button className="small-button primary" onClick={(e) => { stop(e); void review.run({ kind: votes ? 'approve' : 'acceptHunk', id: s.id, hunk: h.index }); }}>{votes ? 'Approve' : 'Accept'}</button>}
          </>
        )}
      </div>
      <pre className="review-diff">
        {lines(h.removed).map((l, i) => <div key={`d${i}`} className="review-del">- {l}</div>)}
        {lines(h.inserted).map((l, i) => <div key={`a${i}`} className="review-add">+ {l}</div>)}
      </pre>
      <HunkComments comments={comments} target={anchor ? { fileId: s.fileId, anchor, excerpt: h.removed || h.inserted, ownerId: s.id } : null}
        drafting={drafting} onDraftDone={() => setDrafting(false)} canModerate={canModerate} meId={meId} onOpen={onSelect} />
    </div>
  );
}

function ClosedCard({ s, role, review }: { s: LiveSuggestion; role: Role | null; review: Review }) {
  const applied = s.hunks.some((h) => h.decision === 'accepted');
  const decide = mayDecide(s.policy, role);
  return (
    <div className={`review-card compact status-${s.status}`} data-testid="closed-suggestion" data-status={s.status} data-suggestion={s.id}>
      <div className="review-card-head">
        <span className="review-instruction-inline">“{s.instruction}”</span>
        <span className={`review-status status-${s.status}`}>{STATUS_TEXT[s.status]}</span>
      </div>
      <div className="muted small">
        {s.path} · {s.requester.name} · {s.hunks.map((h) => `#${h.index + 1} ${h.decision}${h.decidedBy ? ` by ${h.decidedBy.name}` : ''}`).join(', ') || (s.error ?? '')}
      </div>
      {s.undone && <div className="muted small">Undone by {s.undone.by.name}</div>}
      {applied && !s.undone && decide && (
        <div className="review-actions"><button className="small-button" onClick={() => void review.run({ kind: 'undo', id: s.id })}>Undo AI edit</button></div>
      )}
    </div>
  );
}

function lines(text: string): string[] {
  if (!text) return [];
  const out = text.split('\n');
  if (out.at(-1) === '') out.pop();
  return out;
}
