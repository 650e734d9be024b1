'use client';
import { useState } from 'react';
import { errorMessage, trpc } from '@/lib/trpc';
import { useQuery } from '@/lib/useQuery';

/**
 * Project settings → AI: which of the server's configured providers this project uses. Only the
 * owner may change it (it decides where the project's code is sent); others see the choice.
 * With no provider configured, says exactly what the server operator must set.
 */
export function AiProviderSettings({ projectId }: { projectId: string }) {
  const status = useQuery(() => trpc.ai.status.query({ projectId }), [projectId]);
  const [error, setError] = useState<string | null>(null);
  const s = status.data;

  const choose = async (value: string) => {
    setError(null);
    try {
      await trpc.ai.setProvider.mutate({ projectId, providerId: value === '' ? null : value });
      await status.reload();
    } catch (e) {
      setError(errorMessage(e));
    }
  };

  return (
    <section className="card stack" data-testid="ai-settings">
      <h2>AI</h2>
      {status.error && <div className="error" role="alert">{status.error}</div>}
      {error && <div className="error" role="alert">{error}</div>}
      {s && s.providers.length === 0 && <div className="error" role="alert" data-testid="ai-not-configured">{s.problem}</div>}
      {s && s.providers.length > 0 && (
        <>
          <label style={{ flexDirection: 'row', alignItems: 'center' }}>Provider
            <select aria-label="AI provider" value={s.selectedProviderId ?? ''} disabled={!s.canChoose} onChange={(e) => void choose(e.target.value)}>
              <option value="">Server default ({s.providers.find((p) => p.id === s.defaultProviderId)?.label ?? 'none'})</option>
              {s.providers.map((p) => <option key={p.id} value={p.id}>{p.label} — {p.model}{p.fim ? ' (fill-in-the-middle)' : ''}</option>)}
              {s.selectedProviderId !== null && !s.providers.some((p) => p.id === s.selectedProviderId) && (
                <option value={s.selectedProviderId}>{s.selectedProviderId} (no longer configured)</option>
              )}
            </select>
          </label>
          {s.problem && <div className="error" role="alert">{s.problem}</div>}
          <span className="muted small">
            {s.canChoose ? 'Inline completions and suggestions in this project use this provider. API keys stay on the server.' : 'Only the project owner can change the provider.'}
          </span>
        </>
      )}
    </section>
  );
}
