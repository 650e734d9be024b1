import { randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';

/**
 * The Content-Security-Policy of every page (production; `next dev` needs eval). Scripts run only
 * with this response's nonce, or when loaded by such a script ('strict-dynamic': Next's chunk
 * loader, Monaco's modules); no plugins, no <base>, no framing (clickjacking), forms and
 * connections (tRPC, SSE, the sync WebSocket) only to this origin, Monaco's workers from this
 * origin or blob:. Styles allow 'unsafe-inline': Monaco positions everything with inline styles
 * and injects <style> elements at run time (no script can run from a style). Frames: only the
 * preview origins (apps running in sandboxes, each on its own origin; `previewFrames`), nothing else.
 */
export function contentSecurityPolicy(nonce: string, previewFrames: string | null = null): string {
  return [
    "default-src 'self'",
    `script-src 'self' 'nonce-${nonce}' 'strict-dynamic'`,
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data: blob:",
    "font-src 'self' data:",
    "connect-src 'self'",
    "worker-src 'self' blob:",
    previewFrames ? `frame-src ${previewFrames}` : "frame-src 'none'",
    "frame-ancestors 'none'",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
  ].join('; ');
}

/**
 * Sets a fresh nonce's policy on the response, and on the request too: Next.js reads the nonce
 * from the request's `content-security-policy` header and puts it on every script it renders.
 */
export function applyContentSecurityPolicy(req: IncomingMessage, res: ServerResponse, previewFrames: string | null = null): void {
  const policy = contentSecurityPolicy(randomBytes(16).toString('base64'), previewFrames);
  req.headers['content-security-policy'] = policy;
  res.setHeader('Content-Security-Policy', policy);
}

/** The CSP source for every preview origin of a URL template: `http://{id}.localhost:4001` → `http://*.localhost:4001`. */
export function previewFrameSource(template: string): string {
  return template.replace('{id}', '*');
}
