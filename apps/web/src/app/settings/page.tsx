'use client';
import { useState } from 'react';
import { TopBar } from '@/components/TopBar';
import { trpc, errorMessage } from '@/lib/trpc';
import { useMe } from '@/lib/useMe';
import { useQuery } from '@/lib/useQuery';

export default function AccountSettings() {
  const me = useMe();
  const tokens = useQuery(() => trpc.tokens.list.query(), []);
  const [created, setCreated] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);

  const create = async (e: React.FormEvent<HTMLFormElement>) => {
    e.preventDefault();
    const form = e.currentTarget;
    const f = new FormData(form);
    const days = Number(f.get('days'));
    setError(null);
    try {
      const t = await trpc.tokens.create.mutate({ name: String(f.get('name')), ...(days ? { expiresInDays: days } : {}) });
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
            <code> ?token=&lt;token&gt;</code> to a sync WebSocket URL. A token acts as you on every project you belong to.
          </p>
          <form className="row" onSubmit={create}>
            <input name="name" placeholder="Token name, e.g. laptop CLI" required maxLength={60} style={{ flex: 1 }} />
            <select name="days" defaultValue="90" aria-label="Expiry">
              <option value="30">30 days</option><option value="90">90 days</option><option value="365">1 year</option><option value="0">No expiry</option>
            </select>
            <button className="primary" type="submit">Create token</button>
          </form>
          {error && <div className="error">{error}</div>}
          {created && (
            <div className="stack" style={{ gap: 6 }}>
              <span className="muted small">Copy it now — it will not be shown again:</span>
              <div className="secret" data-testid="new-token">{created}</div>
            </div>
          )}
          {tokens.data && tokens.data.length > 0 ? (
            <table>
              <thead><tr><th>Name</th><th>Token</th><th>Created</th><th>Last used</th><th>Expires</th><th /></tr></thead>
              <tbody>
                {tokens.data.map((t) => (
                  <tr key={t.id}>
                    <td>{t.name}</td>
                    <td><code>{t.prefix}…</code></td>
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
      </main>
    </>
  );
}
