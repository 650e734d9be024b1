'use client';
import { useState } from 'react';
import { errorMessage, trpc } from '@/lib/trpc';

/**
 * "Import from git" on the projects page: a new project from a repository's default branch, given
 * an https URL the server can reach or an uploaded bundle (`git bundle create repo.bundle --all`).
 * The project is created empty, then filled; if the import fails it is deleted again.
 */
export function ImportFromGit({ onImported }: { onImported(projectId: string): void }) {
  const [source, setSource] = useState<'url' | 'bundle'>('url');
  const [name, setName] = useState('');
  const [url, setUrl] = useState('');
  const [file, setFile] = useState<File | null>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);

  const submit = async (e: React.FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    const fallback = (source === 'url' ? url.replace(/\/+$/, '').split('/').pop()?.replace(/\.git$/, '') : file?.name.replace(/\.(bundle|git)$/, '')) || 'Imported project';
    let projectId: string | null = null;
    try {
      projectId = (await trpc.projects.create.mutate({ name: (name.trim() || fallback).slice(0, 100), template: 'empty' })).id;
      if (source === 'url') await trpc.git.importUrl.mutate({ projectId, url });
      else await uploadBundle(projectId, file!);
      onImported(projectId);
    } catch (err) {
      setError(errorMessage(err));
      if (projectId) await trpc.projects.delete.mutate({ projectId }).catch(() => {});
      setBusy(false);
    }
  };

  return (
    <form className="card git-import" onSubmit={(e) => void submit(e)} aria-label="Import from git" data-testid="git-import">
      <strong>Import from git</strong>
      <div className="row git-import-kind" role="radiogroup" aria-label="Source">
        <label><input type="radio" name="source" checked={source === 'url'} onChange={() => setSource('url')} /> From a URL</label>
        <label><input type="radio" name="source" checked={source === 'bundle'} onChange={() => setSource('bundle')} /> From a bundle file</label>
      </div>
      <div className="git-import-source">
        {source === 'url'
          ? <input type="url" value={url} onChange={(e) => setUrl(e.target.value)} placeholder="https://github.com/owner/repo.git" aria-label="Repository URL" required maxLength={2000} />
          : <input type="file" accept=".bundle,.git,application/octet-stream" onChange={(e) => setFile(e.target.files?.[0] ?? null)} aria-label="Bundle file" required />}
        <input value={name} onChange={(e) => setName(e.target.value)} placeholder="Project name (optional)" aria-label="Project name" maxLength={100} />
        <button className="primary" type="submit" disabled={busy}>{busy ? 'Importing…' : 'Import'}</button>
      </div>
      <div className="muted small">The default branch&apos;s text files become the project&apos;s files, attributed to “imported from &lt;repo&gt;@&lt;commit&gt;”. Public https repositories only; binaries and symlinks are skipped.</div>
      {error && <div className="error" role="alert">{error}</div>}
    </form>
  );
}

async function uploadBundle(projectId: string, file: File): Promise<void> {
  const res = await fetch(`/api/projects/${projectId}/git-import`, { method: 'POST', body: file, credentials: 'same-origin', headers: { 'content-type': 'application/octet-stream' } });
  if (res.ok) return;
  const body = await res.json().catch(() => null) as { error?: { message?: string } } | null;
  throw new Error(body?.error?.message ?? `The import failed (${res.status}).`);
}
