'use client';
import { useEffect, useRef, useState } from 'react';
import type { CommentThreadView } from '@tandem/api';
import { Avatar } from '@/components/Avatar';
import type { CommentDraft, Comments } from '@/lib/comments/useComments';
import type { TreeEntries } from '@/lib/ide/fileTree';
import './comments.css';

export interface CommentsPanelProps {
  comments: Comments;
  entries: TreeEntries;
  /** A thread being started (from the editor's Add Comment), or null. */
  draft: CommentDraft | null;
  onDraftDone(): void;
  /** The thread whose marker was clicked: scrolled to and highlighted. */
  focused: string | null;
  onOpen(thread: CommentThreadView): void;
  meId: string | null;
  canModerate: boolean;
}

function when(iso: string): string {
  return new Date(iso).toLocaleString('en-GB', { day: 'numeric', month: 'short', hour: '2-digit', minute: '2-digit' });
}

/**
 * The project's comment threads (side bar): grouped by file, newest activity visible, live for
 * everyone. Start one with Add Comment in the editor (Ctrl/Cmd+Alt+M); reply, resolve, reopen here.
 */
export function CommentsPanel({ comments, entries, draft, onDraftDone, focused, onOpen, meId, canModerate }: CommentsPanelProps) {
  const [showResolved, setShowResolved] = useState(false);
  const visible = comments.threads.filter((t) => showResolved || !t.resolved);
  const resolvedCount = comments.threads.filter((t) => t.resolved).length;
  const byFile = new Map<string, CommentThreadView[]>();
  for (const t of visible) {
    const path = entries.get(t.fileId)?.path ?? '(deleted file)';
    byFile.set(path, [...(byFile.get(path) ?? []), t]);
  }
  return (
    <section className="ide-section comments-panel" aria-label="Comments" data-testid="comments-panel">
      <div className="ide-section-head">
        <span>Comments</span><span className="spacer" />
        {resolvedCount > 0 && <button className="link small" onClick={() => setShowResolved((v) => !v)}>{showResolved ? 'Hide' : 'Show'} resolved ({resolvedCount})</button>}
      </div>
      {comments.error && <div className="search-error" role="alert">{comments.error}</div>}
      {draft && <DraftCard draft={draft} path={entries.get(draft.fileId)?.path ?? ''} onSubmit={async (body) => { if (await comments.create(draft, body)) onDraftDone(); }} onCancel={onDraftDone} />}
      {visible.length === 0 && !draft && (
        <p className="muted small comments-empty">No comments yet. Select lines in the editor and press <kbd>Ctrl</kbd>+<kbd>Alt</kbd>+<kbd>M</kbd> (or right-click → Add Comment).</p>
      )}
      <div className="comments-list">
        {[...byFile].map(([path, threads]) => (
          <div key={path}>
            <div className="comments-file">{path}</div>
            {threads.map((t) => (
              <ThreadCard key={t.id} thread={t} focused={focused === t.id} comments={comments} onOpen={() => onOpen(t)} canResolve={canModerate || t.comments[0]?.author.id === meId} />
            ))}
          </div>
        ))}
      </div>
    </section>
  );
}

function DraftCard({ draft, path, onSubmit, onCancel }: { draft: CommentDraft; path: string; onSubmit(body: string): Promise<void>; onCancel(): void }) {
  const [body, setBody] = useState('');
  const box = useRef<HTMLTextAreaElement>(null);
  useEffect(() => box.current?.focus(), [draft]);
  return (
    <form className="comment-thread draft" onSubmit={(e) => { e.preventDefault(); if (body.trim()) void onSubmit(body); }} data-testid="comment-draft">
      <div className="muted small">New comment on <code>{path}:{draft.line}</code></div>
      <pre className="comment-excerpt">{draft.excerpt}</pre>
      <textarea ref={box} value={body} onChange={(e) => setBody(e.target.value)} placeholder="Write a comment…" rows={3} aria-label="Comment" maxLength={5000}
        onKeyDown={(e) => { if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) { e.preventDefault(); if (body.trim()) void onSubmit(body); } if (e.key === 'Escape') onCancel(); }} />
      <div className="row comment-actions">
        <button type="button" onClick={onCancel}>Cancel</button>
        <button type="submit" className="primary" disabled={!body.trim()}>Comment</button>
      </div>
    </form>
  );
}

/** One thread: its excerpt (click: show it), the comments, reply, resolve. Also shown under an AI hunk in the review panel. */
export function ThreadCard({ thread, focused, comments, onOpen, canResolve }: { thread: CommentThreadView; focused: boolean; comments: Comments; onOpen?: () => void; canResolve: boolean }) {
  const [reply, setReply] = useState('');
  const card = useRef<HTMLElement>(null);
  useEffect(() => {
    if (focused) card.current?.scrollIntoView({ block: 'nearest' });
  }, [focused]);
  const send = async () => {
    if (reply.trim() && (await comments.reply(thread.id, reply))) setReply('');
  };
  return (
    <article ref={card} className={`comment-thread${focused ? ' focused' : ''}${thread.resolved ? ' resolved' : ''}`} data-testid="comment-thread" data-thread={thread.id}>
      {onOpen
        ? <button className="comment-excerpt-button" onClick={onOpen} title="Show in the editor"><pre className="comment-excerpt">{thread.excerpt}</pre></button>
        : <pre className="comment-excerpt comment-excerpt-button">{thread.excerpt}</pre>}
      {thread.comments.map((c) => (
        <div key={c.id} className="comment" data-testid="comment">
          <div className="comment-head"><Avatar name={c.author.name} id={c.author.id} /><strong className="ellipsis">{c.author.name}</strong><span className="muted small">{when(c.createdAt)}</span></div>
          <div className="comment-body">{c.body}</div>
        </div>
      ))}
      {thread.resolved && <div className="muted small">Resolved{thread.resolvedBy ? ` by ${thread.resolvedBy.name}` : ''}.</div>}
      {!thread.resolved && (
        <textarea value={reply} onChange={(e) => setReply(e.target.value)} placeholder="Reply…" rows={1} aria-label="Reply" maxLength={5000}
          onKeyDown={(e) => { if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) { e.preventDefault(); void send(); } }} />
      )}
      <div className="row comment-actions">
        {!thread.resolved && reply.trim() && <button className="primary" onClick={() => void send()}>Reply</button>}
        {canResolve && <button onClick={() => void comments.resolve(thread.id, !thread.resolved)} data-testid="comment-resolve">{thread.resolved ? 'Reopen' : 'Resolve'}</button>}
      </div>
    </article>
  );
}
