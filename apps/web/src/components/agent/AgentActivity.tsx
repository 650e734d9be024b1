'use client';
import { useState } from 'react';
import type { AgentItem, AgentRunView, AgentTurnMetrics } from '@tandem/protocol';
import { Avatar } from '@/components/Avatar';
import { errorMessage, trpc } from '@/lib/trpc';
import { useQuery } from '@/lib/useQuery';
import '@/components/review/review.css';

function when(iso: string): string {
  return new Date(iso).toLocaleString('en-GB', { day: 'numeric', month: 'short', hour: '2-digit', minute: '2-digit', second: '2-digit' });
}

/**
 * The project's record of agent runs (the AI activity page): who started what with which model,
 * its state, steps and tokens, the last check; and, opened, everything it did: each turn's tokens,
 * TTFT and tok/s, tool calls with their result sizes, commands with exit codes and durations,
 * steering messages and permission decisions with their authors, review decisions.
 */
export function AgentActivity({ projectId }: { projectId: string }) {
  const runs = useQuery(() => trpc.agent.list.query({ projectId }), [projectId]);
  if (runs.error) return <div className="error" role="alert">{runs.error}</div>;
  if (runs.loading || !runs.data) return null;
  const list = [...runs.data].sort((a, b) => (a.createdAt < b.createdAt ? 1 : -1));
  if (list.length === 0) return <p className="muted">No agent runs in this project yet. Open the Agent panel in the editor to start one.</p>;
  return <div className="stack">{list.map((r) => <AgentRunCard key={r.id} projectId={projectId} run={r} />)}</div>;
}

function AgentRunCard({ projectId, run }: { projectId: string; run: AgentRunView }) {
  const [record, setRecord] = useState<{ items: AgentItem[]; turns: AgentTurnMetrics[] } | null>(null);
  const [error, setError] = useState<string | null>(null);
  const open = async (e: React.SyntheticEvent<HTMLDetailsElement>) => {
    if (!e.currentTarget.open || record) return;
    try {
      const full = await trpc.agent.get.query({ projectId, runId: run.id });
      setRecord({ items: full.items, turns: full.turns });
    } catch (err) {
      setError(errorMessage(err));
    }
  };
  return (
    <article className="card activity-card" data-testid="agent-activity-entry" data-run={run.id}>
      <div className="row">
        <Avatar name={run.startedBy.name} id={run.startedBy.id} />
        <strong>{run.startedBy.name}</strong>
        <span className="muted">started an agent run with</span>
        <span className="review-model">{run.model === 'ACP' ? `${run.provider} (external agent)` : run.model}</span>
        <span className="review-status" data-testid="agent-activity-status">{run.status.replace('_', ' ')}</span>
        <span style={{ flex: 1 }} />
        <span className="muted small">{when(run.createdAt)}</span>
      </div>
      <div className="activity-instruction">“{run.task}”</div>
      <div className="muted small">
        {run.steps} step{run.steps === 1 ? '' : 's'} · {run.tokens.toLocaleString('en')} tokens
        {run.lastCheck && <> · last check <code>{run.lastCheck.command}</code>: exit {run.lastCheck.exitCode ?? '—'}{run.lastCheck.by ? ` (by ${run.lastCheck.by.name})` : ' (by the agent)'}</>}
      </div>
      {run.error && <div className="error small">{run.error}</div>}
      <details onToggle={(e) => void open(e)}>
        <summary className="muted small">Full record</summary>
        {error && <div className="error small">{error}</div>}
        {record && (
          <>
            {record.turns.length > 0 && (
              <table className="activity-hunks" data-testid="agent-activity-turns">
                <thead><tr><th>Turn</th><th>Steps</th><th>Output tokens</th><th>TTFT</th><th>tok/s</th><th>Duration</th></tr></thead>
                <tbody>
                  {record.turns.map((t) => (
                    <tr key={t.turn}><td>{t.turn}</td><td>{t.steps ?? 1}</td><td>{t.completionTokens === null ? 'not reported' : t.completionTokens.toLocaleString('en')}</td><td>{t.ttftMs === null ? '—' : `${Math.round(t.ttftMs)} ms`}</td><td>{t.tokensPerSecond === null ? '—' : Math.round(t.tokensPerSecond)}</td><td>{Math.round(t.durationMs)} ms</td></tr>
                  ))}
                </tbody>
              </table>
            )}
            <ol className="small" data-testid="agent-activity-record">
              {record.items.map((item) => <li key={item.seq}><span className="muted">{when(item.at)}</span> {describe(item)}</li>)}
            </ol>
          </>
        )}
      </details>
    </article>
  );
}

function describe(item: AgentItem): string {
  switch (item.kind) {
    case 'user_message':
      return `${item.author.name} ${item.steering ? 'steered' : 'asked'}: “${item.text}”`;
    case 'agent_message':
      return `the model said: ${item.text.length > 160 ? `${item.text.slice(0, 160)}…` : item.text}`;
    case 'thought':
      return `the agent thought: ${item.text.length > 160 ? `${item.text.slice(0, 160)}…` : item.text}`;
    case 'plan':
      return `plan: ${item.entries.map((e) => `${e.status === 'completed' ? '✓' : '·'} ${e.content}`).join('; ')}`;
    case 'tool_call':
      return item.command
        ? `ran \`${item.command.command}\`: exit ${item.command.exitCode ?? '—'}${item.command.reason ? ` (${item.command.reason})` : ''} in ${Math.round(item.command.durationMs)} ms`
        // An external agent's tool results stay with it: no size to show.
        : `${item.title} (${item.status}${item.resultChars > 0 ? `, ${item.resultChars.toLocaleString('en')} chars` : ''}${item.durationMs === null ? '' : `, ${Math.round(item.durationMs)} ms`})`;
    case 'permission':
      return !item.outcome ? `asked to run \`${item.command}\` (waiting)`
        : item.outcome.outcome === 'cancelled' ? `asked to run \`${item.command}\` (cancelled)`
          : `${item.outcome.by.name} ${item.outcome.optionId === 'allow' ? 'allowed' : 'denied'} \`${item.command}\``;
    case 'notice':
      // Notices name who acted in their own text ("Ada accepted test.js").
      return item.author && !item.text.startsWith(item.author.name) ? `${item.author.name}: ${item.text}` : item.text;
  }
}
