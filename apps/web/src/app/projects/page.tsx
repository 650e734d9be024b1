'use client';
import { useState } from 'react';
import Link from 'next/link';
import { useRouter } from 'next/navigation';
import { TopBar } from '@/components/TopBar';
import { ImportFromGit } from '@/components/ImportFromGit';
import { trpc, errorMessage } from '@/lib/trpc';
import { useMe } from '@/lib/useMe';
import { useQuery } from '@/lib/useQuery';

export default function Projects() {
  const me = useMe();
  const router = useRouter();
  const projects = useQuery(() => trpc.projects.list.query(), []);
  const templates = useQuery(() => trpc.projects.templates.query(), []);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [importing, setImporting] = useState(false);

  const create = async (e: React.FormEvent<HTMLFormElement>) => {
    e.preventDefault();
    const f = new FormData(e.currentTarget);
    setBusy(true);
    setError(null);
    try {
      const p = await trpc.projects.create.mutate({ name: String(f.get('name')), template: String(f.get('template')) as 'empty' });
      router.push(`/projects/${p.id}`);
    } catch (err) {
      setError(errorMessage(err));
      setBusy(false);
    }
  };

  return (
    <>
      <TopBar me={me} />
      <main className="page stack">
        <h1>Projects</h1>
        <form className="card row" onSubmit={create} aria-label="New project">
          <input name="name" placeholder="New project name" required maxLength={100} style={{ flex: 1, minWidth: 200 }} />
          <select name="template" defaultValue="node" aria-label="Template">
            {(templates.data ?? [{ id: 'node', label: 'Node.js hello world' }]).map((t) => <option key={t.id} value={t.id}>{t.label}</option>)}
          </select>
          <button className="primary" type="submit" disabled={busy}>Create project</button>
          <button type="button" onClick={() => setImporting((v) => !v)} aria-expanded={importing} data-testid="git-import-toggle">Import from git</button>
          {error && <div className="error" style={{ flexBasis: '100%' }}>{error}</div>}
        </form>
        {importing && <ImportFromGit onImported={(id) => router.push(`/projects/${id}`)} />}
        {projects.error && <div className="error">{projects.error}</div>}
        {projects.data?.length === 0 && <p className="muted">No projects yet. Create one above, or open an invite link someone sent you.</p>}
        <div className="project-grid">
          {projects.data?.map((p) => (
            <Link key={p.id} href={`/projects/${p.id}`} className="project-card" data-testid="project-card">
              <div className="name" title={p.name}>{p.name}</div>
              <div className="row small muted project-card-meta">
                <span className={`badge ${p.role}`}>{p.role}</span>
                <span className="nowrap">{p.members} member{p.members === 1 ? '' : 's'} · updated {new Date(p.updatedAt).toLocaleDateString()}</span>
              </div>
            </Link>
          ))}
        </div>
      </main>
    </>
  );
}
