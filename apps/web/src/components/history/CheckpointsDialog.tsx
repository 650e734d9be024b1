'use client';
import { useCallback, useEffect, useRef, useState } from 'react';
import type { CheckpointComparison, CheckpointView } from '@tandem/api';
import { errorMessage, trpc } from '@/lib/trpc';
import { relative } from '@/lib/history/relativeTime';
import { GitPushPanel } from './GitPushPanel';

const REASONS: Record<CheckpointView['reason'], string> = {
  manual: 'Named', 'ai-edit': 'Before AI edit', agent: 'Before agent run', restore: 'Before restore',
};

export interface CheckpointsDialogProps {
  projectId: string;
  /** The file shown in the editor (restore just this file), if any. */
  file: { id: string; path: string } | null;
  canEdit: boolean;
  onClose(): void;
}

/**
 * Checkpoints of the project: create a named one, restore the project or the open file to one
 * (a new change everyone sees; undo by restoring the checkpoint taken just before), and download
 * the project as a git repository (a bundle: `git clone project.bundle`).
 */
export function CheckpointsDialog({ projectId, file, canEdit, onClose }: CheckpointsDialogProps) {
  const ref = useRef<HTMLDialogElement>(null);
  const [items, setItems] = useState<CheckpointView[] | null>(null);
  const [name, setName] = useState('');
  const [busy, setBusy] = useState(false);
  const [message, setMessage] = useState<{ kind: 'error' | 'info'; text: string } | null>(null);
  const [comparison, setComparison] = useState<{ name: string; result: CheckpointComparison } | null>(null);

  const load = useCallback(() => {
    trpc.history.checkpoints.query({ projectId }).then(setItems, (e: unknown) => setMessage({ kind: 'error', text: errorMessage(e) }));
  }, [projectId]);
  useEffect(() => {
    ref.current?.showModal();
    load();
  }, [load]);

  const act = async (what: () => Promise<string>) => {
    setBusy(true);
    setMessage(null);
    try {
      setMessage({ kind: 'info', text: await what() });
      load();
    } catch (e) {
      setMessage({ kind: 'error', text: errorMessage(e) });
    } finally {
      setBusy(false);
    }
  };
  const create = () => act(async () => {
    const c = await trpc.history.createCheckpoint.mutate({ projectId, name });
    setName('');
    return `Checkpoint “${c.name}” created.`;
  });
  const restore = (c: CheckpointView, fileId?: string) => act(async () => {
    const r = await trpc.history.restore.mutate({ projectId, checkpointId: c.id, ...(fileId ? { fileId } : {}) });
    return `Restored ${fileId ? file?.path : `${r.files} file(s)`} to “${c.name}”. To undo, restore “${r.before.name}”.`;
  });
  const compare = (c: CheckpointView, fileId: string) => {
    setMessage(null);
    trpc.history.compare.query({ projectId, checkpointId: c.id, fileId }).then(
      (result) => setComparison({ name: c.name, result }),
      (e: unknown) => setMessage({ kind: 'error', text: errorMessage(e) }),
    );
  };
  const download = () => act(async () => {
    const { bundle, commits } = await trpc.history.exportGit.mutate({ projectId });
    const link = document.createElement('a');
    link.href = `data:application/octet-stream;base64,${bundle}`;
    link.download = 'project.bundle';
    link.click();
    return `Downloaded ${commits} commit(s). Open with: git clone project.bundle`;
  });

  return (
    <dialog ref={ref} className="confirm-dialog checkpoints-dialog" aria-labelledby="checkpoints-title" onCancel={onClose} onClick={(e) => { if (e.target === e.currentTarget) onClose(); }} data-testid="checkpoints-dialog">
      <div className="row checkpoints-head">
        <h2 id="checkpoints-title">Checkpoints</h2>
        <span className="spacer" />
        <button type="button" className="small-button" onClick={download} disabled={busy} title="The project as a git repository: checkpoints are commits, AI-written lines are notes">Download as git</button>
      </div>
      {canEdit && (
        <form className="row checkpoints-create" onSubmit={(e) => { e.preventDefault(); void create(); }}>
          <input value={name} onChange={(e) => setName(e.target.value)} placeholder="Name this moment, e.g. “before refactor”" maxLength={100} aria-label="Checkpoint name" />
          <button type="submit" className="primary small-button" disabled={busy || name.trim() === ''}>Create</button>
        </form>
      )}
      {message && <div className={message.kind === 'error' ? 'error' : 'muted'} role={message.kind === 'error' ? 'alert' : 'status'}>{message.text}</div>}
      <ul className="checkpoints-list">
        {items === null && <li className="muted">Loading…</li>}
        {items?.length === 0 && <li className="muted">No checkpoints yet. One is taken automatically before every accepted AI change.</li>}
        {items?.map((c) => (
          <li key={c.id} data-testid="checkpoint">
            <div className="checkpoint-main">
              <strong>{c.name}</strong>
              <span className="muted">{REASONS[c.reason]} · {c.createdBy?.name ?? 'Tandem'} · {relative(Date.parse(c.createdAt), Date.now())} · {c.files} files</span>
            </div>
            {(canEdit || file) && (
              <div className="row checkpoint-actions">
                {file && <button type="button" className="small-button" onClick={() => compare(c, file.id)} title={`${file.path} then and now`} data-testid="checkpoint-compare">Compare</button>}
                {canEdit && file && <button type="button" className="small-button" disabled={busy} onClick={() => void restore(c, file.id)} title={`Restore ${file.path} only`}>Restore file</button>}
                {canEdit && <button type="button" className="small-button" disabled={busy} onClick={() => void restore(c)}>Restore project</button>}
              </div>
            )}
          </li>
        ))}
      </ul>
      <GitPushPanel projectId={projectId} />
      {comparison && (
        <section className="checkpoint-diff" aria-label="Changes since the checkpoint" data-testid="checkpoint-diff">
          <div className="muted">{comparison.result.path}: since “{comparison.name}”{comparison.result.hunks.length === 0 ? ' — no changes' : ''}</div>
          {comparison.result.hunks.map((h, i) => (
            <pre key={i} className="checkpoint-hunk">
              <span className="diff-at muted">@@ line {h.line}</span>
              {lines(h.removed).map((l, j) => <span key={`r${j}`} className="diff-removed">- {l}</span>)}
              {lines(h.inserted).map((l, j) => <span key={`a${j}`} className="diff-added">+ {l}</span>)}
            </pre>
          ))}
          {comparison.result.truncated && <div className="muted">More changes are not shown.</div>}
        </section>
      )}
      <div className="row confirm-actions"><button type="button" onClick={onClose}>Close</button></div>
    </dialog>
  );
}

function lines(text: string): string[] {
  if (text === '') return [];
  return text.replace(/\n$/, '').split('\n');
}
