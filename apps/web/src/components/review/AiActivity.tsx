'use client';
import { useState } from 'react';
import type { ActivityEntry } from '@tandem/api';
import { Avatar } from '@/components/Avatar';
import { formatMetricsText } from '@/lib/review/formatMetrics';
import { errorMessage, trpc } from '@/lib/trpc';
import { useQuery } from '@/lib/useQuery';
import './review.css';

const PAGE = 50;

const EVENT_TEXT: Record<string, string> = {
  requested: 'asked', completed: 'finished generating', failed: 'failed', cancelled: 'cancelled', stale: 'went stale (code edited)',
  conflict: 'conflict (code deleted)', regenerated: 'regenerated', approved: 'approved', accepted: 'accepted', rejected: 'rejected', undone: 'undid the AI edit',
};

function when(iso: string): string {
  return new Date(iso).toLocaleString('en-GB', { day: 'numeric', month: 'short', hour: '2-digit', minute: '2-digit', second: '2-digit' });
}

/**
 * The project's record of AI edits: who asked for what, which model and provider, TTFT, tokens
 * and tokens/s, and every decision on every hunk with who made it and when.
 */
export function AiActivity({ projectId }: { projectId: string }) {
  const first = useQuery(() => trpc.suggestions.activity.query({ projectId, limit: PAGE }), [projectId]);
  const [more, setMore] = useState<ActivityEntry[]>([]);
  const [done, setDone] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const entries = [...(first.data ?? []), ...more];

  const loadMore = async () => {
    const last = entries.at(-1);
    if (!last) return;
    try {
      const page = await trpc.suggestions.activity.query({ projectId, limit: PAGE, before: last.createdAt });
      setMore((m) => [...m, ...page]);
      if (page.length < PAGE) setDone(true);
    } catch (e) {
      setError(errorMessage(e));
    }
  };

  if (first.error) return <div className="error" role="alert">{first.error}</div>;
  if (first.loading) return <p className="muted">Loading…</p>;
  if (entries.length === 0) return <p className="muted">No AI edits in this project yet. In the editor, select code and press Ctrl/Cmd+K.</p>;
  return (
    <div className="stack" data-testid="ai-activity">
      {entries.map((e) => <ActivityCard key={e.id} e={e} />)}
      {error && <div className="error">{error}</div>}
      {!done && (first.data?.length ?? 0) >= PAGE && <button onClick={() => void loadMore()}>Older</button>}
    </div>
  );
}

function ActivityCard({ e }: { e: ActivityEntry }) {
  const metrics = formatMetricsText({ ttftMs: e.ttftMs, tokens: e.tokens, tokensPerSecond: e.tokensPerSecond, durationMs: null });
  return (
    <article className="card activity-card" data-testid="activity-entry" data-suggestion={e.id}>
      <div className="row">
        <Avatar name={e.requester.name} id={e.requester.id} />
        <strong>{e.requester.name}</strong>
        <span className="muted">asked</span>
        <span className="review-model">{e.model}</span>
        <span className="muted small" data-testid="activity-provider">via {e.providerLabel}</span>
        <span className={`review-status status-${e.status}`} data-testid="activity-status">{e.status.replace('_', ' ')}</span>
        <span style={{ flex: 1 }} />
        <span className="muted small">{when(e.createdAt)}</span>
      </div>
      <div className="activity-instruction">“{e.instruction}”</div>
      <div className="muted small">
        <code>{e.path}</code> lines {e.startLine}–{e.endLine}{e.attempt > 1 ? ` · attempt ${e.attempt}` : ''}
        {metrics && <> · <span data-testid="activity-metrics">{metrics}</span></>}
      </div>
      {e.error && <div className="error small">{e.error}</div>}
      {e.hunks.length > 0 && (
        <table className="activity-hunks">
          <thead><tr><th>Hunk</th><th>Change</th><th>Decision</th><th>Decided by</th><th>When</th><th>Approvals</th></tr></thead>
          <tbody>
            {e.hunks.map((h) => (
              <tr key={h.index} data-testid="activity-hunk" data-decision={h.decision}>
                <td>#{h.index + 1}</td>
                <td><code className="activity-change">{summary(h.removed, h.inserted)}</code></td>
                <td className={`review-decision ${h.decision}`}>{h.decision}</td>
                <td data-testid="activity-decider">{h.decidedBy?.name ?? '—'}</td>
                <td className="muted small">{h.decidedAt ? when(h.decidedAt) : '—'}</td>
                <td className="muted small">{h.approvals.map((u) => u.name).join(', ') || '—'}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <details className="activity-log">
        <summary className="muted small">Full record ({e.events.length} events)</summary>
        <ol>
          {e.events.map((ev, i) => (
            <li key={i} className="small">
              <span className="muted">{when(ev.at)}</span> {ev.user?.name ?? (ev.kind === 'completed' || ev.kind === 'failed' ? e.model : 'The suggestion')} {EVENT_TEXT[ev.kind] ?? ev.kind}
              {ev.hunkIndex !== null ? ` hunk #${ev.hunkIndex + 1}` : ''}{ev.detail ? ` — ${ev.detail}` : ''}
            </li>
          ))}
        </ol>
      </details>
      {e.undone && <div className="muted small">Undone by {e.undone.by.name} at {when(e.undone.at)}</div>}
    </article>
  );
}

/** One line for a hunk: its first removed and first added line. */
function summary(removed: string, inserted: string): string {
  const first = (t: string) => t.split('\n').find((l) => l.trim() !== '')?.trim() ?? '';
  const r = first(removed);
  const a = first(inserted);
  if (r && a) return `${r}  →  ${a}`;
  return r ? `− ${r}` : `+ ${a}`;
}
