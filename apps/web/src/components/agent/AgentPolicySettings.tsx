'use client';
import { useEffect, useState } from 'react';
import { errorMessage, trpc } from '@/lib/trpc';
import { useQuery } from '@/lib/useQuery';

const lines = (text: string) => text.split('\n').map((l) => l.trim()).filter(Boolean);

/**
 * The project's agent policy (project settings; the owner changes it, everyone sees it): who may
 * start and steer runs, step and token limits, commands allowed without asking, paths the AI may
 * never read or write (agent runs, AI edits and completion context), and the check command.
 */
export function AgentPolicySettings({ projectId }: { projectId: string }) {
  const current = useQuery(() => trpc.agent.policy.query({ projectId }), [projectId]);
  const [starters, setStarters] = useState<'editors' | 'owner'>('editors');
  const [maxSteps, setMaxSteps] = useState('30');
  const [maxTokens, setMaxTokens] = useState('200000');
  const [allowed, setAllowed] = useState('');
  const [forbidden, setForbidden] = useState('');
  const [check, setCheck] = useState('');
  const [message, setMessage] = useState<{ kind: 'ok' | 'error'; text: string } | null>(null);
  const data = current.data;
  useEffect(() => {
    if (!data) return;
    setStarters(data.policy.starters);
    setMaxSteps(String(data.policy.maxSteps));
    setMaxTokens(String(data.policy.maxTokens));
    setAllowed(data.policy.allowedCommands.join('\n'));
    setForbidden(data.policy.forbiddenPaths.join('\n'));
    setCheck(data.checkCommand ?? '');
  }, [data]);
  const canEdit = data?.canChange ?? false;

  const save = async () => {
    setMessage(null);
    try {
      await trpc.agent.setPolicy.mutate({
        projectId,
        policy: { starters, maxSteps: Number(maxSteps), maxTokens: Number(maxTokens), allowedCommands: lines(allowed), forbiddenPaths: lines(forbidden) },
        checkCommand: check.trim() || null,
      });
      await current.reload();
      setMessage({ kind: 'ok', text: 'Saved.' });
    } catch (e) {
      setMessage({ kind: 'error', text: errorMessage(e) });
    }
  };

  return (
    <section className="card stack" data-testid="agent-policy-settings">
      <h2 style={{ margin: 0 }}>Agent runs</h2>
      <form className="stack" onSubmit={(e) => { e.preventDefault(); void save(); }}>
        <label className="row">Who may start, steer and stop runs
          <select value={starters} onChange={(e) => setStarters(e.target.value as 'editors' | 'owner')} disabled={!canEdit}>
            <option value="editors">Editors and owners</option>
            <option value="owner">Owners only</option>
          </select>
        </label>
        <div className="row">
          <label>Max steps <input type="number" min={1} max={200} value={maxSteps} onChange={(e) => setMaxSteps(e.target.value)} disabled={!canEdit} style={{ width: 90 }} /></label>
          <label>Max tokens <input type="number" min={1} max={5000000} value={maxTokens} onChange={(e) => setMaxTokens(e.target.value)} disabled={!canEdit} style={{ width: 120 }} /></label>
        </div>
        <label className="stack">Commands the agent may run without asking (one pattern per line, <code>*</code> = anything; others ask everyone Allow / Deny)
          <textarea rows={3} value={allowed} onChange={(e) => setAllowed(e.target.value)} disabled={!canEdit} style={{ fontFamily: 'var(--mono)' }} />
        </label>
        <label className="stack">Paths the AI never reads or writes (globs; agent runs, AI edits and completion context)
          <textarea rows={3} value={forbidden} onChange={(e) => setForbidden(e.target.value)} disabled={!canEdit} style={{ fontFamily: 'var(--mono)' }} />
        </label>
        <label className="row">Check command (Run checks; empty: the run command)
          <input value={check} onChange={(e) => setCheck(e.target.value)} disabled={!canEdit} placeholder="e.g. npm test" style={{ flex: 1, fontFamily: 'var(--mono)' }} />
        </label>
        {canEdit ? <button className="primary" type="submit" style={{ alignSelf: 'flex-start' }}>Save agent policy</button> : <span className="muted small">Only the owner changes the agent policy.</span>}
      </form>
      {current.error && <div className="error">{current.error}</div>}
      {message && <div className={message.kind === 'ok' ? 'notice' : 'error'} role="status">{message.text}</div>}
    </section>
  );
}
