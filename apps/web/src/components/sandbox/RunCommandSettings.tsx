'use client';
import { useEffect, useState } from 'react';
import { errorMessage, trpc } from '@/lib/trpc';
import { useQuery } from '@/lib/useQuery';

/**
 * The project's run command (project settings). Empty means "pick it from the project's files":
 * tandem.json `run`, then package.json `start`, `main`, then main.py / index.js / main.js.
 */
export function RunCommandSettings({ projectId, canEdit }: { projectId: string; canEdit: boolean }) {
  const status = useQuery(() => trpc.sandbox.status.query({ projectId }), [projectId]);
  const project = useQuery(() => trpc.projects.get.query({ projectId }), [projectId]);
  // Editable once the saved command is known: loading it must never overwrite what someone typed.
  const loaded = project.data !== undefined;
  const saved = project.data?.runCommand ?? '';
  const [value, setValue] = useState('');
  const [message, setMessage] = useState<{ kind: 'ok' | 'error'; text: string } | null>(null);
  useEffect(() => setValue(saved), [saved]);

  const detected = status.data?.runCommand?.source === 'settings' ? null : status.data?.runCommand ?? null;
  const save = async (command: string | null) => {
    setMessage(null);
    try {
      await trpc.sandbox.setRunCommand.mutate({ projectId, command });
      await Promise.all([project.reload(), status.reload()]);
      setMessage({ kind: 'ok', text: command ? 'Saved. Run uses this command now.' : 'Cleared. Run picks the command from the project files.' });
    } catch (e) {
      setMessage({ kind: 'error', text: errorMessage(e) });
    }
  };

  return (
    <section className="card stack" data-testid="run-command-settings">
      <h2 style={{ margin: 0 }}>Run command</h2>
      <span className="muted small">
        What the Run button starts, with <code>/bin/sh -c</code> in the project folder of a sandbox (network only to allowed hosts, see Network).
        Leave empty to use the project&apos;s files: <code>tandem.json</code> <code>{'{"run": "…"}'}</code>, then the
        <code> package.json</code> start script, then <code>main.py</code> / <code>index.js</code>.
      </span>
      <form className="row" onSubmit={(e) => { e.preventDefault(); void save(value.trim() || null); }}>
        <input
          aria-label="Run command" style={{ flex: 1, minWidth: 260, fontFamily: 'var(--mono)' }} value={value} maxLength={4096}
          placeholder={detected ? `${detected.command}   (from ${detected.source})` : 'e.g. node src/index.js'}
          onChange={(e) => setValue(e.target.value)} disabled={!canEdit || !loaded}
        />
        {canEdit && <button className="primary" type="submit" disabled={!loaded || value.trim() === saved}>Save</button>}
        {canEdit && saved && <button type="button" onClick={() => void save(null)}>Use project files</button>}
      </form>
      {!canEdit && <span className="muted small">Only editors and owners can change the run command.</span>}
      {status.data && !status.data.available && <div className="error">Running code is disabled on this server: {status.data.missing.join('; ')}.</div>}
      {message && <div className={message.kind === 'ok' ? 'notice' : 'error'} role="status">{message.text}</div>}
    </section>
  );
}
