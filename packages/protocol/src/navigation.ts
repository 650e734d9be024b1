/** Most procedure calls one tRPC HTTP request may batch (the web client splits larger batches). */
export const TRPC_MAX_BATCH = 16;

/**
 * Where to go after signing in: only a path on this site. `//host/…`, `/\host/…` (browsers treat
 * a backslash as a slash), schemes, control characters and anything that would resolve to another
 * origin fall back to `fallback`.
 */
export function safeNextPath(next: string | null | undefined, fallback = '/projects'): string {
  if (!next || next.length > 2048 || !next.startsWith('/')) return fallback;
  if (next.startsWith('//') || next.includes('\\') || /[\u0000-\u001f\u007f]/.test(next)) return fallback;
  try {
    const base = 'http://tandem.invalid';
    const url = new URL(next, base);
    if (url.origin !== base) return fallback;
    return url.pathname + url.search + url.hash;
  } catch {
    return fallback;
  }
}
