'use client';
import { useState } from 'react';
import { errorMessage, trpc } from '@/lib/trpc';
import { useQuery } from '@/lib/useQuery';

const mib = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(bytes < 10 * 1024 * 1024 ? 1 : 0)} MiB`;

/**
 * The project's environment (project settings): what programs installed or wrote beside the
 * documents — node_modules, .venv, caches, generated files — and its disk quota. Owners can
 * reset it: running programs stop and the next run starts from the documents alone.
 */
export function EnvironmentSettings({ projectId, isOwner }: { projectId: string; isOwner: boolean }) {
  const status = useQuery(() => trpc.sandbox.status.query({ projectId }), [projectId]);
  const [busy, setBusy] = useState(false);
  const [message, setMessage] = useState<{ kind: 'ok' | 'error'; text: string } | null>(null);
  const disk = status.data?.disk ?? null;

  const reset = async () => {
    if (!confirm('Reset the environment? Running programs and terminals stop, and installed packages, caches and files programs wrote are deleted for everyone. Project files are kept.')) return;
    setBusy(true);
    setMessage(null);
    try {
      await trpc.sandbox.resetEnvironment.mutate({ projectId });
      await status.reload();
      setMessage({ kind: 'ok', text: 'Environment reset. The next run or terminal starts from the project files.' });
    } catch (e) {
      setMessage({ kind: 'error', text: errorMessage(e) });
    } finally {
      setBusy(false);
    }
  };

  return (
    <section className="card stack" data-testid="environment-settings">
      <h2 style={{ margin: 0 }}>Environment</h2>
      <span className="muted small">
        What runs and terminals install or write — {(status.data?.environmentDirs ?? ['node_modules', '.venv', '.cache']).map((d, i) => (
          <span key={d}>{i > 0 && ', '}<code>{d}</code></span>
        ))}, generated files — stays with the project between runs, beside the project files (not part of them, not in the download).
      </span>
      {disk ? (
        <div className="row" style={{ alignItems: 'center', gap: 12 }}>
          <span className="small">{disk.usedBytes === null ? `Disk quota: ${mib(disk.quotaBytes)}, nothing written yet` : `Disk: ${mib(disk.usedBytes)} used of ${mib(disk.quotaBytes)}`}</span>
          {disk.usedBytes !== null && (
            <progress aria-label="Disk used" max={disk.quotaBytes} value={disk.usedBytes} style={{ flex: 1, minWidth: 120, maxWidth: 320 }} />
          )}
        </div>
      ) : status.data && <span className="muted small">This server has no per-project disk quota.</span>}
      {isOwner ? (
        <div className="row">
          <button className="danger" type="button" disabled={busy} onClick={() => void reset()}>{busy ? 'Resetting…' : 'Reset environment'}</button>
        </div>
      ) : <span className="muted small">Only owners can reset the environment.</span>}
      {message && <div className={message.kind === 'ok' ? 'notice' : 'error'} role="status">{message.text}</div>}
    </section>
  );
}
