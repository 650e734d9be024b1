'use client';
import { useCallback, useEffect, useState } from 'react';
import type { GitRemoteView } from '@tandem/api';
import { errorMessage, trpc } from '@/lib/trpc';

const DEFAULT_BRANCH = 'tandem/checkpoints';

/**
 * "Push to git" in the Checkpoints dialog: the owner sets the remote (an https URL, a branch and an
 * access token that stays on the server) and pushes the checkpoints as commits with their Git AI
 * notes. Other members see where the project pushes.
 */
export function GitPushPanel({ projectId }: { projectId: string }) {
  const [remote, setRemote] = useState<GitRemoteView | null | undefined>(undefined);
  const [isOwner, setIsOwner] = useState(false);
  const [editing, setEditing] = useState(false);
  const [form, setForm] = useState({ url: '', branch: DEFAULT_BRANCH, token: '' });
  const [busy, setBusy] = useState(false);
  const [message, setMessage] = useState<{ kind: 'error' | 'info'; text: string } | null>(null);

  const load = useCallback(() => {
    trpc.git.remote.query({ projectId }).then(setRemote, (e: unknown) => setMessage({ kind: 'error', text: errorMessage(e) }));
  }, [projectId]);
  useEffect(() => {
    load();
    trpc.projects.get.query({ projectId }).then((p) => setIsOwner(p.role === 'owner'), () => {});
  }, [load, projectId]);

  const act = async (what: () => Promise<string>) => {
    setBusy(true);
    setMessage(null);
    try {
      setMessage({ kind: 'info', text: await what() });
    } catch (e) {
      setMessage({ kind: 'error', text: errorMessage(e) });
    } finally {
      setBusy(false);
    }
  };
  const edit = () => {
    setForm({ url: remote?.url ?? '', branch: remote?.branch ?? DEFAULT_BRANCH, token: '' });
    setEditing(true);
  };
  const save = () => act(async () => {
    const saved = await trpc.git.setRemote.mutate({ projectId, url: form.url, branch: form.branch, ...(form.token ? { token: form.token } : {}) });
    setRemote(saved);
    setEditing(false);
    return 'Remote saved.';
  });
  const forgetToken = () => act(async () => {
    if (!remote) return '';
    setRemote(await trpc.git.setRemote.mutate({ projectId, url: remote.url, branch: remote.branch, token: null }));
    return 'Token removed.';
  });
  const push = () => act(async () => {
    const r = await trpc.git.push.mutate({ projectId });
    return `Pushed ${r.commits} commit(s) with their AI notes to ${r.branch}.`;
  });

  if (remote === undefined) return null;
  return (
    <section className="git-push" aria-label="Push to git" data-testid="git-push">
      <div className="row">
        <strong>Push to git</strong>
        <span className="spacer" />
        {isOwner && !editing && <button type="button" className="small-button" onClick={edit} disabled={busy}>{remote ? 'Change' : 'Set remote'}</button>}
        {isOwner && remote && !editing && <button type="button" className="small-button primary" onClick={() => void push()} disabled={busy} data-testid="git-push-button">{busy ? 'Pushing…' : 'Push'}</button>}
      </div>
      <div className="muted small git-push-target" data-testid="git-push-target">
        {remote ? <>{remote.url} → <code>{remote.branch}</code>{remote.hasToken ? ' · token set' : ' · no token'}</> : 'No remote set.'}
      </div>
      {!isOwner && <div className="muted small">Only the project&apos;s owner sets the remote and pushes.</div>}
      {editing && (
        <form className="git-push-form" onSubmit={(e) => { e.preventDefault(); void save(); }}>
          <label>Remote URL<input value={form.url} onChange={(e) => setForm({ ...form, url: e.target.value })} placeholder="https://github.com/you/repo.git" required maxLength={2000} /></label>
          <label>Branch<input value={form.branch} onChange={(e) => setForm({ ...form, branch: e.target.value })} required maxLength={100} /></label>
          <label>Access token<input type="password" value={form.token} onChange={(e) => setForm({ ...form, token: e.target.value })} autoComplete="off"
            placeholder={remote?.hasToken ? 'Stored — leave empty to keep it' : 'A token with write access to the repository'} /></label>
          <div className="muted small">The token stays on the server. Each push replaces the branch with the checkpoints; AI notes are merged into refs/notes/ai.</div>
          <div className="row">
            {remote?.hasToken && <button type="button" className="small-button" onClick={() => void forgetToken()} disabled={busy}>Remove token</button>}
            <span className="spacer" />
            <button type="button" className="small-button" onClick={() => setEditing(false)}>Cancel</button>
            <button type="submit" className="small-button primary" disabled={busy}>Save</button>
          </div>
        </form>
      )}
      {message && <div className={message.kind === 'error' ? 'error' : 'muted'} role={message.kind === 'error' ? 'alert' : 'status'}>{message.text}</div>}
    </section>
  );
}
