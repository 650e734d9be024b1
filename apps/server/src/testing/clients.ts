/** Real clients for server tests: the tRPC HTTP client with a cookie, and y-websocket providers. */
import { createTRPCClient, httpLink } from '@trpc/client';
import WebSocket from 'ws';
import * as Y from 'yjs';
import { WebsocketProvider } from 'y-websocket';
import type { AppRouter } from '@tandem/api';
import { FILE_TEXT } from '@tandem/protocol';

export type Api = ReturnType<typeof createTRPCClient<AppRouter>>;

export interface SignedIn {
  api: Api;
  cookie: string;
  user: { id: string; name: string; email: string };
}

/** Signs up through the real HTTP API and keeps the session cookie. */
export async function signUpOverHttp(baseUrl: string, name: string): Promise<SignedIn> {
  const email = `${name.toLowerCase()}-${Math.random().toString(36).slice(2, 8)}@example.com`;
  const res = await fetch(`${baseUrl}/api/trpc/auth.signUp`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email, password: 'tandem-test-password', name }),
  });
  if (!res.ok) throw new Error(`sign up failed: ${res.status} ${await res.text()}`);
  const cookie = res.headers.getSetCookie()[0]!.split(';')[0]!;
  const user = ((await res.json()) as { result: { data: SignedIn['user'] } }).result.data;
  const api = createTRPCClient<AppRouter>({ links: [httpLink({ url: `${baseUrl}/api/trpc`, headers: { cookie } })] });
  return { api, cookie, user };
}

export interface SyncClient {
  doc: Y.Doc;
  text: Y.Text;
  provider: WebsocketProvider;
  closes: number[];
  /** Close reasons, in the order of `closes`. */
  reasons: string[];
  synced: Promise<void>;
  destroy(): void;
}

/** A stock y-websocket client authenticated by cookie or by personal access token. */
export function connectSync(baseUrl: string, documentName: string, auth: { cookie?: string; token?: string; headers?: Record<string, string> } = {}): SyncClient {
  const headers = auth.cookie || auth.headers ? { ...auth.headers, ...(auth.cookie ? { cookie: auth.cookie } : {}) } : undefined;
  class AuthedWebSocket extends WebSocket {
    constructor(url: string, protocols?: string | string[]) {
      super(url, protocols, { headers });
    }
  }
  const doc = new Y.Doc();
  const closes: number[] = [];
  const reasons: string[] = [];
  const provider = new WebsocketProvider(baseUrl.replace(/^http/, 'ws') + '/sync', documentName, doc, {
    WebSocketPolyfill: AuthedWebSocket as unknown as typeof globalThis.WebSocket,
    params: auth.token ? { token: auth.token } : {},
    disableBc: true,
  });
  provider.on('connection-close', (e) => {
    if (e) {
      closes.push(e.code);
      reasons.push(e.reason);
    }
  });
  const synced = new Promise<void>((resolve) => {
    if (provider.synced) resolve();
    provider.on('sync', (s: boolean) => s && resolve());
  });
  return {
    doc,
    text: doc.getText(FILE_TEXT),
    provider,
    closes,
    reasons,
    synced,
    destroy() {
      provider.destroy();
      doc.destroy();
    },
  };
}

export async function waitFor(cond: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** Opens a raw WebSocket and resolves with the close code the server sends. */
export function closeCodeOf(url: string, headers: Record<string, string> = {}): Promise<number> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { headers });
    ws.on('close', (code) => resolve(code));
    ws.on('error', () => {});
    setTimeout(() => reject(new Error('no close within 5 s')), 5000);
  });
}
