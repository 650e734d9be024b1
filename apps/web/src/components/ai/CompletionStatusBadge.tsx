'use client';
import { useState, useSyncExternalStore } from 'react';
import { completionStatusStore, type CompletionStatus } from '@/lib/ai/CompletionStatusStore';
import './ai.css';

/**
 * The inline-completion status of this tab, live: provider, state, TTFT, tokens and tokens/s of
 * the latest completion, its error if it failed, and — with no provider — exactly what the
 * server operator must configure. One line in the status bar; click it for the full text.
 */
export function CompletionStatusBadge({ projectId }: { projectId: string }) {
  const store = completionStatusStore(projectId);
  const s = useSyncExternalStore(store.subscribe, store.getSnapshot, store.getSnapshot);
  const [open, setOpen] = useState(false);
  const { text, tone, detail } = describe(s);
  const problem = s.availability === 'unavailable' ? s.problem : s.state === 'error' ? s.error : null;
  return (
    <span className="ai-status-wrap">
      <button
        type="button"
        className={`ai-status ${tone}`}
        data-testid="ai-status"
        data-state={s.availability === 'ready' ? s.state : s.availability}
        title={detail}
        aria-expanded={open}
        onClick={() => setOpen((o) => !o)}
      >
        <span className="dot" />
        <span className="ai-status-text">{text}</span>
      </button>
      {open && (
        <span className="ai-status-popover" role={problem ? 'alert' : 'status'}>
          {problem && <span className="ai-status-problem" data-testid="ai-problem">{problem}</span>}
          <span className="muted">{detail}</span>
        </span>
      )}
    </span>
  );
}

function describe(s: CompletionStatus): { text: string; tone: 'idle' | 'busy' | 'ok' | 'error'; detail: string } {
  switch (s.availability) {
    case 'loading':
      return { text: 'AI…', tone: 'idle', detail: 'Checking the AI provider' };
    case 'viewer':
      return { text: 'AI off (viewer)', tone: 'idle', detail: 'Viewers cannot edit, so inline completions are off.' };
    case 'unavailable':
      return { text: `AI unavailable: ${s.problem ?? ''}`, tone: 'error', detail: 'Inline completions are off until the server has an AI provider.' };
  }
  const name = s.provider ? s.provider.label : 'AI';
  const shortcuts = 'Tab accepts, Ctrl+→ next word, Ctrl+Alt+→ next line, Esc dismisses.';
  const m = s.metrics;
  const numbers = m ? [
    m.ttftMs !== null ? `TTFT ${Math.round(m.ttftMs)} ms` : null,
    `${m.completionTokens} tok`,
    m.tokensPerSecond !== null ? `${Math.round(m.tokensPerSecond).toLocaleString('en-US')} tok/s` : null,
  ].filter(Boolean).join(' · ') : '';
  const detail = `${name}${s.provider ? ` (${s.provider.model}${s.provider.fim ? ', fill-in-the-middle' : ', chat'})` : ''}. ${shortcuts}`;
  switch (s.state) {
    case 'idle':
      return { text: name, tone: 'idle', detail };
    case 'waiting':
      return { text: `${name}: thinking…`, tone: 'busy', detail };
    case 'streaming':
      return { text: `${name}: ${numbers}`, tone: 'busy', detail };
    case 'done':
      return { text: `${name}: ${numbers}`, tone: 'ok', detail };
    case 'cancelled':
      return { text: `${name}: cancelled${numbers ? ` · ${numbers}` : ''}`, tone: 'idle', detail };
    case 'error':
      return { text: `AI error: ${s.error ?? 'unknown'}`, tone: 'error', detail: `${s.error ?? ''} ${detail}` };
  }
}
