'use client';
import { useEffect, useState } from 'react';
import { errorMessage, trpc } from '@/lib/trpc';
import { useQuery } from '@/lib/useQuery';

/**
 * Which hosts the project's sandboxes may reach through Tandem's egress proxy (project settings).
 * The server's registries are always allowed; the owner may add hosts within what the server
 * permits (its operator's ceiling). Everything else is refused with a message in the terminal.
 */
export function NetworkSettings({ projectId }: { projectId: string }) {
  const settings = useQuery(() => trpc.network.settings.query({ projectId }), [projectId]);
  const [value, setValue] = useState('');
  const [message, setMessage] = useState<{ kind: 'ok' | 'error'; text: string } | null>(null);
  const saved = settings.data?.hosts.join('\n') ?? '';
  useEffect(() => setValue(saved), [saved]);
  if (settings.error) return null; // networking is off on this server
  const s = settings.data;

  const save = async () => {
    setMessage(null);
    try {
      const hosts = value.split(/[\s,]+/).map((h) => h.trim()).filter(Boolean);
      const r = await trpc.network.setHosts.mutate({ projectId, hosts });
      await settings.reload();
      setMessage({ kind: 'ok', text: r.hosts.length ? `Saved: sandboxes may also reach ${r.hosts.join(', ')}.` : 'Saved: only the server-wide hosts are allowed.' });
    } catch (e) {
      setMessage({ kind: 'error', text: errorMessage(e) });
    }
  };

  return (
    <section className="card stack" data-testid="network-settings">
      <h2 style={{ margin: 0 }}>Network</h2>
      <span className="muted small">
        Programs in this project&apos;s sandbox reach the internet only through Tandem&apos;s proxy, and only these hosts
        (for <code>npm install</code>, <code>pip install</code> and the like). Other hosts are refused with a message in the terminal.
        Loopback, private and cloud-metadata addresses are never reachable.
      </span>
      {s && (
        <>
          <div className="small"><strong>Always allowed on this server:</strong> <code>{s.defaults.join(', ') || 'none'}</code></div>
          <label className="stack" style={{ gap: 4 }}>
            <span className="small"><strong>Also allowed for this project</strong> (one per line: <code>api.example.com</code>, <code>*.example.com</code>, <code>host:8443</code>)</span>
            <textarea
              aria-label="Allowed hosts" rows={3} value={value} onChange={(e) => setValue(e.target.value)}
              disabled={!s.canEdit || s.ceiling.length === 0} style={{ fontFamily: 'var(--mono)' }}
              placeholder={s.ceiling.length ? `within: ${s.ceiling.join(', ')}` : 'This server does not let projects add hosts.'}
            />
          </label>
          <span className="muted small">
            {s.ceiling.length ? <>The server lets projects add hosts within <code>{s.ceiling.join(', ')}</code>.</> : <>The server&apos;s operator can let projects add hosts with <code>TANDEM_EGRESS_PROJECT_CEILING</code>.</>}
            {!s.canEdit && ' Only the owner can change this list.'}
          </span>
          {s.canEdit && s.ceiling.length > 0 && (
            <div className="row"><button className="primary" onClick={() => void save()} disabled={value === saved}>Save</button></div>
          )}
        </>
      )}
      {message && <div className={message.kind === 'ok' ? 'notice' : 'error'} role="status">{message.text}</div>}
    </section>
  );
}
