'use client';
import { useState } from 'react';
import { errorMessage, trpc } from '@/lib/trpc';
import { useQuery } from '@/lib/useQuery';

/**
 * External agents (ACP) the deployment offers, and which this project lets participants pick in
 * the Agent panel. The owner switches them; everyone sees the list. Hidden when none are configured.
 */
export function ExternalAgentsSettings({ projectId }: { projectId: string }) {
  const current = useQuery(() => trpc.agent.externalAgents.query({ projectId }), [projectId]);
  const [message, setMessage] = useState<{ kind: 'ok' | 'error'; text: string } | null>(null);
  const data = current.data;
  if (!data || data.agents.length === 0) return null;

  const toggle = async (id: string, on: boolean) => {
    setMessage(null);
    const enabled = data.agents.filter((a) => (a.id === id ? on : a.enabled)).map((a) => a.id);
    try {
      await trpc.agent.setExternalAgents.mutate({ projectId, enabled });
      await current.reload();
      setMessage({ kind: 'ok', text: 'Saved.' });
    } catch (e) {
      setMessage({ kind: 'error', text: errorMessage(e) });
    }
  };

  return (
    <section className="card stack" data-testid="external-agents-settings">
      <h2 style={{ margin: 0 }}>External agents</h2>
      <p className="muted small" style={{ margin: 0 }}>
        Agents this server runs over the Agent Client Protocol, inside the project&apos;s sandbox. An enabled agent can be picked
        when starting a run; its writes arrive as a changeset the group reviews, and the agent policy above applies to it.
      </p>
      {data.agents.map((a) => (
        <label key={a.id} style={{ flexDirection: 'row', alignItems: 'center', gap: 8, color: 'var(--text)' }}>
          <input type="checkbox" checked={a.enabled} disabled={!data.canChange} onChange={(e) => void toggle(a.id, e.target.checked)} data-testid={`external-agent-${a.id}`} />
          {a.label}
        </label>
      ))}
      {!data.canChange && <span className="muted small">Only the owner chooses the external agents.</span>}
      {message && <div className={message.kind === 'ok' ? 'notice' : 'error'} role="status">{message.text}</div>}
    </section>
  );
}
