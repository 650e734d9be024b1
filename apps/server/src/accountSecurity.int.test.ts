// Account and session attacks over real HTTP and WebSockets (issue 12 items 3, 5, 6, 7, 11):
// a real server, real database, the stock y-websocket client and the tRPC SSE stream.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createTRPCClient, httpLink } from '@trpc/client';
import type { AppRouter } from '@tandem/api';
import { CLOSE_CODES, TREE_MAP, fileDocName, treeDocName, type TreeEntry } from '@tandem/protocol';
import { loadEnv } from './env.ts';
import { startTandemServer, type TandemServer } from './TandemServer.ts';
import { closeCodeOf, connectSync, signUpOverHttp, waitFor, type SignedIn, type SyncClient } from './testing/clients.ts';
import { HttpSubscription } from './testing/HttpSubscription.ts';

let dataDir: string;
let server: TandemServer;
let owner: SignedIn;
let projectId: string;
let fileDoc: string;
const clients: SyncClient[] = [];
const subs: HttpSubscription[] = [];

const env = () => loadEnv({ PORT: '0', HOST: '127.0.0.1', TANDEM_DATA_DIR: dataDir, COOKIE_SECURE: 'false', TANDEM_SIGNUPS_PER_IP_PER_HOUR: '12' }, []);

function open(documentName: string, auth: { cookie?: string; token?: string }): SyncClient {
  const c = connectSync(server.url, documentName, auth);
  clients.push(c);
  return c;
}

async function stream(cookieOrToken: { cookie?: string; token?: string }, tabId: string): Promise<HttpSubscription> {
  const headers: Record<string, string> = cookieOrToken.cookie ? { cookie: cookieOrToken.cookie } : { authorization: `Bearer ${cookieOrToken.token!}` };
  const s = await HttpSubscription.open(server.url, 'stream.events', { projectId, tabId }, headers);
  subs.push(s);
  return s;
}

async function signInOverHttp(email: string, password = 'tandem-test-password'): Promise<string> {
  const res = await fetch(`${server.url}/api/trpc/auth.signIn`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email, password }) });
  assert.equal(res.status, 200, await res.clone().text());
  return res.headers.getSetCookie()[0]!.split(';')[0]!;
}

const apiWith = (headers: Record<string, string>) => createTRPCClient<AppRouter>({ links: [httpLink({ url: `${server.url}/api/trpc`, headers })] });

before(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'tandem-accsec-'));
  server = await startTandemServer(env(), { withWeb: false });
  owner = await signUpOverHttp(server.url, 'Owner');
  projectId = (await owner.api.projects.create.mutate({ name: 'P', template: 'node' })).id;
  const tree = open(treeDocName(projectId), { cookie: owner.cookie });
  await tree.synced;
  const [fileId] = Object.entries(tree.doc.getMap<TreeEntry>(TREE_MAP).toJSON() as Record<string, TreeEntry>).find(([, e]) => e.path === 'src/greet.js')!;
  fileDoc = fileDocName(projectId, fileId);
});
after(async () => {
  for (const c of clients) c.destroy();
  for (const s of subs) s.close();
  await server?.close();
  rmSync(dataDir, { recursive: true, force: true });
});

test('signing out closes the other tabs of that session (sync sockets and event streams); other devices stay', async () => {
  const cookie = await signInOverHttp(owner.user.email);
  const otherDevice = await signInOverHttp(owner.user.email);
  const tab2 = open(fileDoc, { cookie });
  const device = open(fileDoc, { cookie: otherDevice });
  await Promise.all([tab2.synced, device.synced]);
  const tab2Events = await stream({ cookie }, 'tab2');
  const deviceEvents = await stream({ cookie: otherDevice }, 'dev');
  await apiWith({ cookie }).auth.signOut.mutate();
  await waitFor(() => tab2.closes.includes(CLOSE_CODES.UNAUTHENTICATED), 'the signed-out tab closed with 4401');
  await tab2Events.waitFor((m) => m.event === 'serialized-error', 10_000);
  // Its edits no longer reach anyone: the socket is gone and reconnecting is refused.
  assert.equal(await closeCodeOf(`${server.url.replace('http', 'ws')}/sync/${encodeURIComponent(fileDoc)}`, { cookie }), CLOSE_CODES.UNAUTHENTICATED);
  const before = device.text.toString();
  tab2.text.insert(0, 'after sign-out ');
  await new Promise((r) => setTimeout(r, 300));
  assert.equal(device.text.toString(), before);
  assert.ok(!device.closes.includes(CLOSE_CODES.UNAUTHENTICATED), 'another session is not affected');
  assert.equal(deviceEvents.messages.some((m) => m.event === 'serialized-error'), false);
});

test('changing the password closes every other session\'s sockets; revoking a token closes the token\'s', async () => {
  const u = await signUpOverHttp(server.url, 'Changer');
  const inv = await owner.api.invites.create.mutate({ projectId, role: 'editor' });
  await u.api.invites.accept.mutate({ token: inv.token });
  const laptop = await signInOverHttp(u.user.email);
  const laptopTab = open(fileDoc, { cookie: laptop });
  const own = open(fileDoc, { cookie: u.cookie });
  const { token, id } = await u.api.tokens.create.mutate({ name: 'ci' });
  const viaToken = open(fileDoc, { token });
  await Promise.all([laptopTab.synced, own.synced, viaToken.synced]);
  const tokenEvents = await stream({ token }, 'cli');
  await u.api.auth.changePassword.mutate({ currentPassword: 'tandem-test-password', newPassword: 'a fresh long passphrase' });
  await waitFor(() => laptopTab.closes.includes(CLOSE_CODES.UNAUTHENTICATED), 'the other session closed');
  assert.ok(!own.closes.includes(CLOSE_CODES.UNAUTHENTICATED), 'the session that changed the password stays');
  await u.api.tokens.revoke.mutate({ id });
  await waitFor(() => viaToken.closes.includes(CLOSE_CODES.UNAUTHENTICATED), 'the revoked token\'s socket closed');
  await tokenEvents.waitFor((m) => m.event === 'serialized-error', 10_000);
});

test('token scopes hold over HTTP and WebSocket; a token cannot mint tokens or invites', async () => {
  const readOnly = await owner.api.tokens.create.mutate({ name: 'reader', scopes: ['sync:read'] });
  const apiOnly = await owner.api.tokens.create.mutate({ name: 'api', scopes: ['api'] });
  const full = await owner.api.tokens.create.mutate({ name: 'full' });
  // sync:read only: reads, but its writes are dropped (it connects as a viewer), and no API.
  const reader = open(fileDoc, { token: readOnly.token });
  const watcher = open(fileDoc, { cookie: owner.cookie });
  await Promise.all([reader.synced, watcher.synced]);
  assert.ok(reader.text.toString().length > 0);
  const before = watcher.text.toString();
  reader.text.insert(0, 'forged by a read-only token ');
  await new Promise((r) => setTimeout(r, 300));
  assert.equal(watcher.text.toString(), before);
  await assert.rejects(apiWith({ authorization: `Bearer ${readOnly.token}` }).projects.list.query(), /api/);
  // api only: no documents.
  assert.equal(await closeCodeOf(`${server.url.replace('http', 'ws')}/sync/${encodeURIComponent(fileDoc)}?token=${apiOnly.token}`), CLOSE_CODES.FORBIDDEN);
  // Full token: everyday calls work, account management does not.
  const asToken = apiWith({ authorization: `Bearer ${full.token}` });
  assert.ok((await asToken.projects.list.query()).length >= 1);
  await assert.rejects(asToken.tokens.create.mutate({ name: 'child' }), /cannot manage/);
  await assert.rejects(asToken.invites.create.mutate({ projectId, role: 'owner' }), /cannot manage/);
  await assert.rejects(asToken.projects.delete.mutate({ projectId }), /cannot manage/);
});

test('a tRPC batch is capped (300 calls in one request are refused; 16 are answered)', async () => {
  const batch = (n: number) => {
    const paths = Array.from({ length: n }, () => 'auth.me').join(',');
    const input = Object.fromEntries(Array.from({ length: n }, (_, i) => [i, {}]));
    return fetch(`${server.url}/api/trpc/${paths}?batch=1&input=${encodeURIComponent(JSON.stringify(input))}`, { headers: { cookie: owner.cookie } });
  };
  const ok = await batch(16);
  assert.equal(ok.status, 200);
  assert.equal(((await ok.json()) as unknown[]).length, 16);
  const big = await batch(300);
  assert.equal(big.status, 400);
});

test('invite links never take their origin from a hostile Host header', async () => {
  // A browser's same-origin call fixes the origin (no TANDEM_PUBLIC_URL here).
  const real = new URL(server.url);
  const first = await createTRPCClient<AppRouter>({ links: [httpLink({ url: `${server.url}/api/trpc`, headers: { cookie: owner.cookie, origin: real.origin } })] }).invites.create.mutate({ projectId, role: 'viewer' });
  assert.ok(first.url.startsWith(`${real.origin}/invite/`), first.url);
  const create = (headers: Record<string, string>) => fetch(`${server.url}/api/trpc/invites.create`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', cookie: owner.cookie, ...headers },
    body: JSON.stringify({ projectId, role: 'editor' }),
  });
  // A client without Origin (not a browser) that forges Host still gets a link to the real origin.
  const res = await create({ host: 'evil.example' });
  assert.equal(res.status, 200);
  const url = ((await res.json()) as { result: { data: { url: string } } }).result.data.url;
  assert.ok(url.startsWith(`${real.origin}/invite/`), url);
  // With a matching forged Origin the browser guard refuses the call outright.
  assert.equal((await create({ host: 'evil.example', origin: 'http://evil.example' })).status, 403);
});

test('sign-up over HTTP is limited per IP, and weak passwords are refused', async () => {
  const signUp = (i: number, password = 'a sturdy passphrase') =>
    fetch(`${server.url}/api/trpc/auth.signUp`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email: `flood${i}@example.com`, password, name: 'F' }) });
  const weak = await signUp(-1, 'password');
  assert.equal(weak.status, 400);
  const statuses = await Promise.all(Array.from({ length: 40 }, (_, i) => signUp(i).then((r) => r.status)));
  assert.ok(statuses.includes(429), statuses.join(','));
  assert.ok(statuses.filter((s) => s === 200).length <= 12, statuses.join(','));
  assert.ok((await server.db.prisma.user.count({ where: { email: { startsWith: 'flood' } } })) <= 12);
});

test('per-IP limits see the client behind a trusted proxy, and an untrusted X-Forwarded-For is ignored', async () => {
  const { clientIp } = await import('./httpContext.ts');
  const req = (peer: string, xff?: string) => ({ socket: { remoteAddress: peer }, headers: xff ? { 'x-forwarded-for': xff } : {} }) as never;
  assert.equal(clientIp(req('203.0.113.9', '1.2.3.4')), '203.0.113.9', 'no trusted proxy: the header is the client\'s to forge');
  const proxies = new Set(['127.0.0.1']);
  assert.equal(clientIp(req('::ffff:127.0.0.1', '6.6.6.6, 198.51.100.7'), proxies), '198.51.100.7', 'the entry the proxy appended');
  assert.equal(clientIp(req('198.51.100.8', '6.6.6.6'), proxies), '198.51.100.8');
});
