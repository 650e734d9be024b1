// Preview as users meet it: the real server in-process with its preview origin, a real sandbox
// terminal (bubblewrap + cgroups) running a small HTTP + WebSocket app, tRPC over HTTP.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import WebSocket from 'ws';
import { loadEnv } from './env.ts';
import { startTandemServer, type TandemServer } from './TandemServer.ts';
import { signUpOverHttp, type SignedIn } from './testing/clients.ts';
import { previewAppCommand } from '@tandem/sandbox/testing';

let dataDir: string;
let sandboxDir: string;
let server: TandemServer;
let owner: SignedIn;
let viewer: SignedIn;
let stranger: SignedIn;
let projectId: string;
const APP_PORT = 8000;

before(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'tandem-preview-app-'));
  sandboxDir = mkdtempSync(join(tmpdir(), 'tandem-pv-'));
  chmodSync(sandboxDir, 0o711);
  server = await startTandemServer(loadEnv({
    PORT: '0', HOST: '127.0.0.1', TANDEM_DATA_DIR: dataDir, COOKIE_SECURE: 'false', TANDEM_SANDBOX_DIR: sandboxDir,
    TANDEM_PREVIEW_PORT: '0', TANDEM_EGRESS_PROJECT_CEILING: '*.example.com,cdn.example.org',
  }, []), { withWeb: false });
  [owner, viewer, stranger] = await Promise.all([signUpOverHttp(server.url, 'Owner'), signUpOverHttp(server.url, 'Viewer'), signUpOverHttp(server.url, 'Stranger')]);
  projectId = (await owner.api.projects.create.mutate({ name: 'Preview', template: 'node' })).id;
  const inv = await owner.api.invites.create.mutate({ projectId, role: 'viewer' });
  await viewer.api.invites.accept.mutate({ token: inv.token });
});
after(async () => {
  await server?.close();
  rmSync(dataDir, { recursive: true, force: true });
  rmSync(sandboxDir, { recursive: true, force: true });
});

/** Polls `f` until it returns non-null (generous timeouts: the machine is shared). */
async function poll<T>(f: () => Promise<T | null>, timeoutMs: number): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await f();
    if (v !== null) return v;
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** A request to the preview origin as a browser would send it (Host names the project and port). */
/** A GET, or a POST of `send` (its parts written one by one: chunked when there are several). */
function previewGet(path: string, cookie?: string, port = APP_PORT, send?: string[]): Promise<{ status: number; body: string; setCookie: string[]; location?: string; nosniff?: string }> {
  return new Promise((resolve, reject) => {
    const length = send?.length === 1 ? { 'content-length': String(Buffer.byteLength(send[0]!)) } : {};
    const req = request({
      host: '127.0.0.1', port: server.preview!.port, path, method: send ? 'POST' : 'GET',
      headers: { host: `${projectId}-${port}.localhost:${server.preview!.port}`, ...(cookie ? { cookie } : {}), ...length },
    }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (body += d));
      res.on('end', () => resolve({
        status: res.statusCode!, body, setCookie: res.headers['set-cookie'] ?? [], location: res.headers.location, nosniff: String(res.headers['x-content-type-options']),
      }));
    });
    req.on('error', reject);
    for (const part of send ?? []) req.write(part);
    req.end();
  });
}

async function signInToPreview(ticketUrl: string): Promise<string> {
  const u = new URL(ticketUrl);
  const r = await previewGet(`${u.pathname}${u.search}`);
  assert.equal(r.status, 302, r.body);
  return r.setCookie[0]!.split(';')[0]!;
}

describe('preview', () => {
  test('a server started in a terminal is detected and proxied (HTTP + WebSocket) to members only', async () => {
    const term = await owner.api.sandbox.terminals.open.mutate({ projectId, cols: 100, rows: 30 });
    await owner.api.sandbox.terminals.write.mutate({ projectId, terminalId: term.id, data: `${previewAppCommand(APP_PORT)}\n` });
    const previews = await poll(async () => {
      const r = await viewer.api.network.previews.query({ projectId });
      return r.previews.some((p) => p.port === APP_PORT) ? r.previews : null;
    }, 30_000).catch(async (e: Error) => {
      const sb = await owner.api.sandbox.terminals.scrollback.query({ projectId, terminalId: term.id });
      throw new Error(`${e.message}; terminal: ${JSON.stringify(sb).slice(-1500)}`);
    });
    assert.equal(previews[0]!.url, `http://${projectId}-${APP_PORT}.localhost:${server.preview!.port}`);

    // No credential, or someone else's: refused. The stranger cannot even get a ticket.
    assert.equal((await previewGet('/')).status, 401);
    assert.equal((await previewGet('/', 'tandem_preview=forged.value')).status, 401);
    await assert.rejects(stranger.api.network.previewTicket.mutate({ projectId, port: APP_PORT }), /not found/i);
    await assert.rejects(stranger.api.network.previews.query({ projectId }), /not found/i);

    // A member's ticket becomes a preview cookie; the app never sees that cookie nor the IDE session.
    const cookie = await signInToPreview((await viewer.api.network.previewTicket.mutate({ projectId, port: APP_PORT })).url);
    const page = await previewGet('/hello?x=1', `${cookie}; other=1`);
    assert.equal(page.status, 200, page.body);
    assert.match(page.body, /hello from the sandbox \/hello\?x=1 cookie=\[other=1\] host=localhost:8000/);
    assert.equal(page.nosniff, 'nosniff');
    // Request bodies reach the app, with a length or chunked.
    assert.equal((await previewGet('/echo', cookie, APP_PORT, ['a=1&b=2'])).body, 'body=[a=1&b=2]');
    assert.equal((await previewGet('/echo', cookie, APP_PORT, ['first ', 'second'])).body, 'body=[first second]');
    // The cookie is for this project+port only.
    assert.equal((await previewGet('/', cookie, 9999)).status, 401);

    // Requests share a kept-alive connection to the app; one the app closes is replaced.
    const first = await previewGet('/conn', cookie);
    assert.equal((await previewGet('/conn', cookie)).body, first.body);
    assert.equal((await previewGet('/drop', cookie)).body, first.body);
    await new Promise((r) => setTimeout(r, 100));
    const replaced = await previewGet('/conn', cookie);
    assert.equal(replaced.status, 200);
    assert.notEqual(replaced.body, first.body);

    // WebSocket echo through the proxy.
    const ws = new WebSocket(`ws://127.0.0.1:${server.preview!.port}/hmr`, { headers: { host: `${projectId}-${APP_PORT}.localhost:${server.preview!.port}`, cookie } });
    await new Promise((r, j) => { ws.once('open', r); ws.once('error', j); });
    const echoed = new Promise<string>((r) => ws.once('message', (d) => r(String(d))));
    ws.send('ping through the preview');
    assert.equal(await echoed, 'ping through the preview');
    ws.close();
    const noAuth = new WebSocket(`ws://127.0.0.1:${server.preview!.port}/hmr`, { headers: { host: `${projectId}-${APP_PORT}.localhost:${server.preview!.port}` } });
    await assert.rejects(new Promise((r, j) => { noAuth.once('open', r); noAuth.once('error', j); }), /401/);

    // Removing the member ends their preview access at once, though their cookie is still signed.
    await owner.api.members.remove.mutate({ projectId, userId: viewer.user.id });
    assert.equal((await previewGet('/', cookie)).status, 401);

    // A share link works for anyone until it expires.
    const share = await owner.api.network.shareLink.mutate({ projectId, port: APP_PORT, hours: 1 });
    const shareCookie = await signInToPreview(share.url);
    assert.equal((await previewGet('/x', shareCookie)).status, 200);
    await assert.rejects(viewer.api.network.shareLink.mutate({ projectId, port: APP_PORT, hours: 1 }), /not found/i);
    // A refused host is named in the shared terminal, with how to allow it.
    await owner.api.sandbox.terminals.write.mutate({ projectId, terminalId: term.id, data: 'curl -sS https://not-allowed.example/\n' });
    await poll(async () => {
      const sb = await owner.api.sandbox.terminals.scrollback.query({ projectId, terminalId: term.id });
      return /Tandem blocked network access to not-allowed\.example:443: it is not on this project.s allowlist\. A project owner can add "not-allowed\.example"/.test(sb.data) ? true : null;
    }, 30_000);
    await owner.api.sandbox.terminals.kill.mutate({ projectId, terminalId: term.id });
    await poll(async () => ((await owner.api.network.previews.query({ projectId })).previews.length === 0 ? true : null), 15_000);
    assert.equal((await previewGet('/', shareCookie)).status, 502);
  });

  test('owners add hosts only within the deployment ceiling; others cannot', async () => {
    const s = await owner.api.network.settings.query({ projectId });
    assert.ok(s.defaults.includes('registry.npmjs.org'), s.defaults.join(','));
    assert.deepEqual(s.ceiling, ['*.example.com', 'cdn.example.org']);
    assert.equal(s.canEdit, true);
    assert.deepEqual((await owner.api.network.setHosts.mutate({ projectId, hosts: ['api.example.com', 'cdn.example.org', 'api.example.com'] })).hosts, ['api.example.com', 'cdn.example.org']);
    await assert.rejects(owner.api.network.setHosts.mutate({ projectId, hosts: ['evil.org'] }), /outside what this server lets projects add/);
    await assert.rejects(owner.api.network.setHosts.mutate({ projectId, hosts: ['not a host'] }), /not a host name/);
    await assert.rejects(stranger.api.network.setHosts.mutate({ projectId, hosts: ['api.example.com'] }), /not found/i);
    const inv = await owner.api.invites.create.mutate({ projectId, role: 'editor' });
    await viewer.api.invites.accept.mutate({ token: inv.token });
    await assert.rejects(viewer.api.network.setHosts.mutate({ projectId, hosts: ['api.example.com'] }), /owner/);
    assert.equal((await viewer.api.network.settings.query({ projectId })).canEdit, false);
  });
});
