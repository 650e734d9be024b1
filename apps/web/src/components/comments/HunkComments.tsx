'use client';
import { useState } from 'react';
import { CommentIcon } from '@/components/ide/Icons';
import type { Comments } from '@/lib/comments/useComments';
import { ThreadCard } from './CommentsPanel';

/** A hunk of an AI change that threads can be on: its own anchor in the file, and the change it belongs to. */
export interface HunkTarget {
  fileId: string;
  anchor: { start: string; end: string };
  excerpt: string;
  /** The suggestion (or agent run) the hunk belongs to: stored as the thread's `suggestionId`. */
  ownerId: string;
}

/** The threads on one hunk: same change, same anchor. */
export function threadsOn(comments: Comments, ownerId: string, anchor: { start: string; end: string }) {
  return comments.threads.filter((t) => t.suggestionId === ownerId && t.anchorStart === anchor.start && t.anchorEnd === anchor.end);
}

/** The hunk header's compact "comment on this change" button, with the number of threads on it. */
export function CommentButton({ count, onClick }: { count: number; onClick(): void }) {
  return (
    <button className="small-button hunk-comment-button" title="Comment on this change (everyone sees it)" aria-label={count > 0 ? `Comment (${count} ${count === 1 ? 'thread' : 'threads'})` : 'Comment'} data-testid="hunk-comment"
      onClick={(e) => { e.stopPropagation(); onClick(); }}>
      <CommentIcon size={14} />{count > 0 && <span>{count}</span>}
    </button>
  );
}

/**
 * Comment threads on one hunk of an AI change, under the hunk in a review list: a normal code
 * comment on the hunk's lines (it also shows in the editor's gutter and the Comments panel), live
 * for every member; anyone may start one or reply, as on code.
 */
export function HunkComments({ comments, target, drafting, onDraftDone, canModerate, meId, onOpen }: {
  comments: Comments;
  target: HunkTarget | null;
  drafting: boolean;
  onDraftDone(): void;
  canModerate: boolean;
  meId: string | null;
  onOpen?: () => void;
}) {
  const threads = target ? threadsOn(comments, target.ownerId, target.anchor) : [];
  if (!target || (threads.length === 0 && !drafting)) return null;
  return (
    <div className="hunk-comments" onClick={(e) => e.stopPropagation()} data-testid="hunk-comments">
      {threads.map((t) => <ThreadCard key={t.id} thread={t} focused={false} comments={comments} onOpen={onOpen} canResolve={canModerate || t.comments[0]?.author.id === meId} />)}
      {drafting && (
        <HunkCommentForm onCancel={onDraftDone} onSubmit={async (body) => {
          const ok = await comments.create({ fileId: target.fileId, anchorStart: target.anchor.start, anchorEnd: target.anchor.end, excerpt: target.excerpt, suggestionId: target.ownerId }, body);
          if (ok) onDraftDone();
        }} />
      )}
    </div>
  );
}

function HunkCommentForm({ onSubmit, onCancel }: { onSubmit(body: string): Promise<void>; onCancel(): void }) {
  const [body, setBody] = useState('');
  const send = () => { if (body.trim()) void onSubmit(body); };
  return (
    <form className="comment-thread draft" onSubmit={(e) => { e.preventDefault(); send(); }} data-testid="hunk-comment-draft">
      <textarea autoFocus value={body} onChange={(e) => setBody(e.target.value)} placeholder="Comment on this change…" rows={2} aria-label="Comment on this change" maxLength={5000}
        onKeyDown={(e) => { if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) { e.preventDefault(); send(); } if (e.key === 'Escape') onCancel(); }} />
      <div className="row comment-actions">
        <button type="button" onClick={onCancel}>Cancel</button>
        <button type="submit" className="primary" disabled={!body.trim()}>Comment</button>
      </div>
    </form>
  );
}
