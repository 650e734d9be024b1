import type { LiveMetrics } from '@tandem/api';

/** "TTFT 52 ms · 2,950 tok/s · 412 tokens" (the parts known so far). */
export function formatMetricsText(m: LiveMetrics): string {
  const parts: string[] = [];
  if (m.ttftMs !== null) parts.push(`TTFT ${Math.round(m.ttftMs)} ms`);
  if (m.tokensPerSecond !== null) parts.push(`${Math.round(m.tokensPerSecond).toLocaleString('en-US')} tok/s`);
  if (m.tokens > 0) parts.push(`${m.tokens.toLocaleString('en-US')} tokens`);
  return parts.join(' · ');
}
