'use client';
import { useState } from 'react';
import { TopBar } from '@/components/TopBar';
import { trpc, errorMessage } from '@/lib/trpc';
import { useMe } from '@/lib/useMe';
import { useQuery } from '@/lib/useQuery';

const SCOPES = [
  { id: 'api', label: 'API' },
  { id: 'sync:read', label: 'Read documents' },
  { id: 'sync:write', label: 'Edit documents' },
] as const;
type Scope = (typeof SCOPES)[number]['id'];

export default function AccountSettings() {
  const me = useMe();
  const tokens = useQuery(() => trpc.tokens.list.query(), []);
  const [created, setCreated] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [passwordNote, setPasswordNote] = useState<{ ok: boolean; text: string } | null>(null);

  const changePassword = async (e: React.FormEvent<HTMLFormElement>) => {
    e.preventDefault();
    const form = e.currentTarget;
    const f = new FormData(form);
    setPasswordNote(null);
    try {
      const r = await trpc.auth.changePassword.mutate({ currentPassword: String(f.get('current')), newPassword: String(f.get('next')) });
      form.reset();
      setPasswordNote({ ok: true, text: `Password changed.${r.endedSessions ? ` Signed out ${r.endedSessions} other session${r.endedSessions === 1 ? '' : 's'}.` : ''}` });
    } catch (err) {
      setPasswordNote({ ok: false, text: errorMessage(err) });
    }
  };

  const create = async (e: React.FormEvent<HTMLFormElement>) => {
    e.preventDefault();
    const form = e.currentTarget;
    const f = new FormData(form);
    const days = Number(f.get('days'));
    const scopes = f.getAll('scope').map(String) as Scope[];
    setError(null);
    try {
      const t = await trpc.tokens.create.mutate({ name: String(f.get('name')), scopes, ...(days ? { expiresInDays: days } : {}) });
      setCreated(t.token);
      form.reset();
      await tokens.reload();
    } catch (err) {
      setError(errorMessage(err));
    }
  };

  return (
    <>
      <TopBar me={me} />
      <main className="page stack">
        <h1>Account</h1>
        {me && <p className="muted">Signed in as <b>{me.name}</b> ({me.email})</p>}
        <section className="card stack">
          <h2>Personal access tokens</h2>
          <p className="muted small" style={{ margin: 0 }}>
            For scripts and CLI tools: send <code>Authorization: Bearer &lt;token&gt;</code> to the API, or add
            <code> ?token=&lt;token&gt;</code> to a sync WebSocket URL. A token acts as you on every project you belong to,
            limited to its scopes; no token can create tokens or invites or delete projects. Revoking one disconnects it at once.
          </p>
          <form id="token-form" className="row" onSubmit={create}>
            <input name="name" placeholder="Token name, e.g. laptop CLI" required maxLength={60} style={{ flex: 1 }} />
            <select name="days" defaultValue="90" aria-label="Expiry">
              <option value="30">30 days</option><option value="90">90 days</option><option value="365">1 year</option><option value="0">No expiry</option>
            </select>
            <button className="primary" type="submit">Create token</button>
          </form>
          <fieldset className="row small" style={{ border: 0, padding: 0, margin: 0, gap: 16 }} form="token-form">
            {SCOPES.map((sc) => (
              <label key={sc.id} className="row" style={{ gap: 4 }}><input type="checkbox" name="scope" value={sc.id} form="token-form" defaultChecked />{sc.label}</label>
            ))}
          </fieldset>
          {error && <div className="error">{error}</div>}
          {created && (
            <div className="stack" style={{ gap: 6 }}>
              <span className="muted small">Copy it now — it will not be shown again:</span>
              <div className="secret" data-testid="new-token">{created}</div>
            </div>
          )}
          {tokens.data && tokens.data.length > 0 ? (
            <table>
              <thead><tr><th>Name</th><th>Token</th><th>Scopes</th><th>Created</th><th>Last used</th><th>Expires</th><th /></tr></thead>
              <tbody>
                {tokens.data.map((t) => (
                  <tr key={t.id}>
                    <td>{t.name}</td>
                    <td><code>{t.prefix}…</code></td>
                    <td className="muted small">{t.scopes.map((id) => SCOPES.find((sc) => sc.id === id)?.label ?? id).join(', ')}</td>
                    <td className="muted">{new Date(t.createdAt).toLocaleDateString()}</td>
                    <td className="muted">{t.lastUsedAt ? new Date(t.lastUsedAt).toLocaleString() : 'never'}</td>
                    <td className="muted">{t.expiresAt ? new Date(t.expiresAt).toLocaleDateString() : 'never'}</td>
                    <td style={{ textAlign: 'right' }}>
                      <button className="danger" onClick={async () => { await trpc.tokens.revoke.mutate({ id: t.id }); await tokens.reload(); }}>Revoke</button>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          ) : <p className="muted small">No tokens.</p>}
        </section>
        <section className="card stack">
          <h2>Password</h2>
          <form className="row" onSubmit={changePassword}>
            <input name="current" type="password" placeholder="Current password" aria-label="Current password" required autoComplete="current-password" style={{ flex: 1 }} />
            <input name="next" type="password" placeholder="New password (10+ characters)" aria-label="New password" required minLength={10} autoComplete="new-password" style={{ flex: 1 }} />
            <button type="submit">Change password</button>
          </form>
          {passwordNote && <div className={passwordNote.ok ? 'muted small' : 'error'} role="status">{passwordNote.text}</div>}
          <p className="muted small" style={{ margin: 0 }}>Changing it signs out your other sessions everywhere.</p>
        </section>
      </main>
    </>
  );
}
