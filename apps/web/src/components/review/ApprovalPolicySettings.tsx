'use client';
import { useEffect, useState } from 'react';
import { errorMessage, trpc } from '@/lib/trpc';
import { useQuery } from '@/lib/useQuery';

type Kind = 'any_editor' | 'owner_only' | 'n_approvals';

const DESCRIPTIONS: Record<Kind, string> = {
  any_editor: 'Any editor (or the owner) may accept or reject an AI edit’s hunks.',
  owner_only: 'Only the project owner decides; editors can ask for edits and watch.',
  n_approvals: 'A hunk is applied once this many different people approved it; one reject discards it.',
};

/** Project settings: who may accept AI edits. The owner chooses; the server enforces it. */
export function ApprovalPolicySettings({ projectId }: { projectId: string }) {
  const current = useQuery(() => trpc.suggestions.policy.query({ projectId }), [projectId]);
  const [kind, setKind] = useState<Kind>('any_editor');
  const [n, setN] = useState(2);
  const [message, setMessage] = useState<{ kind: 'ok' | 'error'; text: string } | null>(null);
  const policy = current.data?.policy;
  useEffect(() => {
    if (!policy) return;
    setKind(policy.kind);
    if (policy.kind === 'n_approvals') setN(policy.n);
  }, [policy]);
  const canChange = current.data?.canChange === true;

  const save = async (e: React.FormEvent) => {
    e.preventDefault();
    setMessage(null);
    try {
      await trpc.suggestions.setPolicy.mutate({ projectId, policy: kind === 'n_approvals' ? { kind, n } : { kind } });
      await current.reload();
      setMessage({ kind: 'ok', text: 'Saved. Open suggestions follow the new policy at once.' });
    } catch (err) {
      setMessage({ kind: 'error', text: errorMessage(err) });
    }
  };

  return (
    <section className="card stack" data-testid="approval-policy">
      <h2 style={{ margin: 0 }}>AI edit approvals</h2>
      <span className="muted small">Who may accept the AI’s suggested edits in this project. Viewers never can.</span>
      <form className="stack" onSubmit={save}>
        {(Object.keys(DESCRIPTIONS) as Kind[]).map((k) => (
          <label key={k} className="row" style={{ flexDirection: 'row', alignItems: 'flex-start', color: 'var(--text)' }}>
            <input type="radio" name="policy" value={k} checked={kind === k} disabled={!canChange} onChange={() => setKind(k)} />
            <span>
              <strong>{k === 'any_editor' ? 'Any editor' : k === 'owner_only' ? 'Owner only' : 'Several approvals'}</strong>
              <span className="muted small" style={{ display: 'block' }}>{DESCRIPTIONS[k]}</span>
            </span>
            {k === 'n_approvals' && (
              <input
                type="number" aria-label="Approvals required" min={1} max={50} value={n} style={{ width: 72 }}
                disabled={!canChange || kind !== 'n_approvals'} onChange={(e) => setN(Math.max(1, Math.min(50, Number(e.target.value) || 1)))}
              />
            )}
          </label>
        ))}
        {canChange
          ? <div className="row"><button className="primary" type="submit">Save policy</button></div>
          : <span className="muted small">Only the owner can change this.</span>}
      </form>
      {message && <div className={message.kind === 'ok' ? 'notice' : 'error'} role="status">{message.text}</div>}
    </section>
  );
}
