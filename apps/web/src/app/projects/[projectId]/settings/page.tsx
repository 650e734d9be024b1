'use client';
import { use, useState } from 'react';
import Link from 'next/link';
import { useRouter } from 'next/navigation';
import { TopBar } from '@/components/TopBar';
import { Avatar } from '@/components/Avatar';
import { trpc, errorMessage } from '@/lib/trpc';
import { useMe } from '@/lib/useMe';
import { useQuery } from '@/lib/useQuery';
import { RunCommandSettings } from '@/components/sandbox/RunCommandSettings';
import { EnvironmentSettings } from '@/components/sandbox/EnvironmentSettings';
import { NetworkSettings } from '@/components/sandbox/NetworkSettings';
import { ApprovalPolicySettings } from '@/components/review/ApprovalPolicySettings';
import { AgentPolicySettings } from '@/components/agent/AgentPolicySettings';
import { ExternalAgentsSettings } from '@/components/agent/ExternalAgentsSettings';
import { AiProviderSettings } from '@/components/ai/AiProviderSettings';
import { useConfirm } from '@/components/ConfirmDialog';

type Role = 'owner' | 'editor' | 'viewer';

export default function ProjectSettings({ params }: { params: Promise<{ projectId: string }> }) {
  const { projectId } = use(params);
  const me = useMe();
  const router = useRouter();
  const project = useQuery(() => trpc.projects.get.query({ projectId }), [projectId]);
  const members = useQuery(() => trpc.members.list.query({ projectId }), [projectId]);
  const isOwner = project.data?.role === 'owner';
  const invites = useQuery(() => (isOwner ? trpc.invites.list.query({ projectId }) : Promise.resolve([])), [projectId, isOwner]);
  const [error, setError] = useState<string | null>(null);
  const [newLink, setNewLink] = useState<string | null>(null);
  const [creating, setCreating] = useState(false);
  const { ask, dialog } = useConfirm();
  /** After removing someone: the invite links still open (they no longer admit that person). */
  const [removedNote, setRemovedNote] = useState<{ name: string; open: number } | null>(null);

  const act = async (fn: () => Promise<unknown>) => {
    setError(null);
    try {
      await fn();
      await Promise.all([project.reload(), members.reload(), invites.reload()]);
    } catch (e) {
      setError(errorMessage(e));
    }
  };

  const createInvite = (e: React.FormEvent<HTMLFormElement>) => {
    e.preventDefault();
    const f = new FormData(e.currentTarget);
    if (creating) return; // a double click makes one link
    setCreating(true);
    return act(async () => {
      const inv = await trpc.invites.create.mutate({ projectId, role: f.get('role') as Role, expiresInHours: Number(f.get('expires')) });
      setNewLink(inv.url);
    }).finally(() => setCreating(false));
  };

  const rename = (e: React.FormEvent<HTMLFormElement>) => {
    e.preventDefault();
    const name = String(new FormData(e.currentTarget).get('name'));
    return act(() => trpc.projects.rename.mutate({ projectId, name }));
  };

  const loadError = project.error ?? members.error;
  if (loadError) return (<><TopBar me={me} /><main className="page"><div className="error">{loadError}</div></main></>);
  const p = project.data;
  // Nothing renders until the project and its members are known, so no button moves under the
  // pointer; sections that load their own data come after the ones people act on most.
  if (!p || !members.data) return (<><TopBar me={me} /><main className="page"><p className="muted">Loading settings…</p></main></>);
  return (
    <>
      <TopBar me={me} />
      <main className="page stack">
        <div className="row">
          <h1 style={{ margin: 0 }}>{p.name} <span className="muted">· settings</span></h1>
          <span className="spacer" style={{ flex: 1 }} />
          <Link href={`/projects/${projectId}/activity`} className="button">AI activity</Link>
          <Link href={`/projects/${projectId}`} className="button">Open editor</Link>
        </div>
        {error && <div className="error" role="alert">{error}</div>}

        <section className="card">
          <h2>Members</h2>
          <table>
            <thead><tr><th>Name</th><th>Email</th><th>Role</th><th /></tr></thead>
            <tbody>
              {members.data.map((m) => (
                <tr key={m.id} data-testid="member-row">
                  <td><span className="row member-name"><Avatar name={m.name} id={m.id} /><span className="ellipsis" title={m.name}>{m.name}</span>{m.id === me?.id && <span className="muted small">(you)</span>}</span></td>
                  <td className="muted">{m.email}</td>
                  <td>
                    {isOwner ? (
                      <select aria-label={`Role of ${m.name}`} value={m.role} onChange={(e) => act(() => trpc.members.setRole.mutate({ projectId, userId: m.id, role: e.target.value as Role }))}>
                        <option value="owner">owner</option><option value="editor">editor</option><option value="viewer">viewer</option>
                      </select>
                    ) : <span className={`badge ${m.role}`}>{m.role}</span>}
                  </td>
                  <td style={{ textAlign: 'right' }}>
                    {(isOwner || m.id === me?.id) && (
                      <button className="danger" onClick={async () => {
                        const self = m.id === me?.id;
                        const ok = await ask(self
                          ? { title: `Leave “${p.name}”?`, body: 'You lose access until someone invites you again.', confirm: 'Leave', danger: true }
                          : { title: `Remove ${m.name}?`, body: `${m.name} loses access to “${p.name}” at once; their open editors are disconnected.`, confirm: 'Remove', danger: true });
                        if (!ok) return;
                        await act(async () => {
                          const removed = await trpc.members.remove.mutate({ projectId, userId: m.id });
                          if (self) router.replace('/projects');
                          else setRemovedNote({ name: m.name, open: removed.openInvites.length });
                        });
                      }}>{m.id === me?.id ? 'Leave' : 'Remove'}</button>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </section>

        {isOwner && (
          <section className="card stack">
            <h2>Invite links</h2>
            <form className="row" onSubmit={createInvite}>
              <label style={{ flexDirection: 'row', alignItems: 'center' }}>Role
                <select name="role" defaultValue="editor"><option value="editor">editor</option><option value="viewer">viewer</option><option value="owner">owner</option></select>
              </label>
              <label style={{ flexDirection: 'row', alignItems: 'center' }}>Expires in
                <select name="expires" defaultValue="72"><option value="1">1 hour</option><option value="24">1 day</option><option value="72">3 days</option><option value="168">7 days</option><option value="720">30 days</option></select>
              </label>
              <button className="primary" type="submit" disabled={creating}>Create invite link</button>
            </form>
            {newLink && (
              <div className="stack" style={{ gap: 6 }}>
                <span className="muted small">Send this link (shown once):</span>
                <div className="secret" data-testid="invite-link">{newLink}</div>
              </div>
            )}
            {removedNote && removedNote.open > 0 && (
              <div className="notice small" role="status" data-testid="removed-open-invites">
                {removedNote.name} was removed; the {removedNote.open} open invite link{removedNote.open === 1 ? '' : 's'} below no longer let them back in,
                but anyone else holding {removedNote.open === 1 ? 'it' : 'them'} can still join. Revoke any you no longer need.
              </div>
            )}
            {invites.data && invites.data.length > 0 && (
              <table>
                <thead><tr><th>Role</th><th>Created</th><th>Expires</th><th>Used</th><th /></tr></thead>
                <tbody>
                  {invites.data.map((i) => (
                    <tr key={i.id}>
                      <td><span className={`badge ${i.role}`}>{i.role}</span></td>
                      <td className="muted">{new Date(i.createdAt).toLocaleString()}</td>
                      <td className="muted">{new Date(i.expiresAt).toLocaleString()}</td>
                      <td>{i.uses}</td>
                      <td style={{ textAlign: 'right' }}><button className="danger" onClick={() => act(() => trpc.invites.revoke.mutate({ projectId, inviteId: i.id }))}>Revoke</button></td>
                    </tr>
                  ))}
                </tbody>
              </table>
            )}
          </section>
        )}

        <RunCommandSettings projectId={projectId} canEdit={p.role !== 'viewer'} />

        <EnvironmentSettings projectId={projectId} isOwner={isOwner} />
        <NetworkSettings projectId={projectId} />

        <ApprovalPolicySettings projectId={projectId} />
        <AgentPolicySettings projectId={projectId} />
        <ExternalAgentsSettings projectId={projectId} />

        <AiProviderSettings projectId={projectId} />

        {p.role !== 'viewer' && (
          <section className="card stack">
            <h2>Project</h2>
            <form className="row" onSubmit={rename}>
              <input name="name" defaultValue={p.name} maxLength={100} required style={{ flex: 1 }} aria-label="Project name" />
              <button type="submit">Rename</button>
            </form>
            {isOwner && (
              <div className="row">
                <button className="danger" onClick={async () => {
                  const ok = await ask({ title: `Delete “${p.name}”?`, body: 'All its files, runs and AI history are deleted for everyone. This cannot be undone.', confirm: 'Delete project', danger: true });
                  if (ok) await act(async () => { await trpc.projects.delete.mutate({ projectId }); router.replace('/projects'); });
                }}>Delete project</button>
              </div>
            )}
          </section>
        )}
      </main>
      {dialog}
    </>
  );
}
