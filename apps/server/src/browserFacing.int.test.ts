// Browser-facing defences over the real server (issue 12, items 8 and 9): a page on another
// origin — even another port of the same host, which SameSite=Lax cookies do not stop — cannot
// sync with the user's cookie, and cannot make API mutations (CSRF) in the user's name.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CLOSE_CODES, TREE_MAP, fileDocName, treeDocName, type TreeEntry } from '@tandem/protocol';
import { loadEnv } from './env.ts';
import { startTandemServer, type TandemServer } from './TandemServer.ts';
import { closeCodeOf, connectSync, signUpOverHttp, waitFor, type SignedIn } from './testing/clients.ts';

let dataDir: string;
let server: TandemServer;
let owner: SignedIn;
let projectId: string;
let fileDoc: string;
let host: string;

before(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'tandem-browser-'));
  server = await startTandemServer(loadEnv({ PORT: '0', HOST: '127.0.0.1', TANDEM_DATA_DIR: dataDir, COOKIE_SECURE: 'false' }, []), { withWeb: false });
  host = new URL(server.url).host;
  owner = await signUpOverHttp(server.url, 'Owner');
  projectId = (await owner.api.projects.create.mutate({ name: 'P', template: 'node' })).id;
  const tree = connectSync(server.url, treeDocName(projectId), { cookie: owner.cookie });
  await tree.synced;
  const entries = tree.doc.getMap<TreeEntry>(TREE_MAP).toJSON() as Record<string, TreeEntry>;
  fileDoc = fileDocName(projectId, Object.entries(entries).find(([, e]) => e.path === 'src/greet.js')![0]);
  tree.destroy();
});
after(async () => {
  await server?.close();
  rmSync(dataDir, { recursive: true, force: true });
});

const wsUrl = () => `${server.url.replace('http', 'ws')}/sync/${fileDoc}`;

describe('item 8: /sync checks Origin when authenticating by cookie', () => {
  test('a page on another port of the same host (Origin http://localhost:<other>) is refused with 4401', async () => {
    const port = Number(new URL(server.url).port);
    for (const origin of [`http://localhost:${port + 1}`, `http://127.0.0.1:${port + 1}`, 'https://evil.example', 'null']) {
      assert.equal(await closeCodeOf(wsUrl(), { cookie: owner.cookie, origin }), CLOSE_CODES.UNAUTHENTICATED, origin);
    }
    // Sec-Fetch-Site says the same thing where the Origin is forged to look like ours.
    assert.equal(await closeCodeOf(wsUrl(), { cookie: owner.cookie, origin: `http://${host}`, 'sec-fetch-site': 'same-site' }), CLOSE_CODES.UNAUTHENTICATED);
  });

  test('the foreign page reads nothing: the document is never sent', async () => {
    const attacker = connectSync(server.url, fileDoc, { cookie: owner.cookie, headers: { origin: 'http://localhost:1' } });
    await waitFor(() => attacker.closes.length > 0, 'the close');
    assert.equal(attacker.closes[0], CLOSE_CODES.UNAUTHENTICATED);
    assert.equal(attacker.text.toString(), '', 'no byte of the file reached the foreign page');
    attacker.destroy();
  });

  test('our own origin (and clients without Origin) sync normally', async () => {
    for (const headers of [{ origin: `http://${host}`, 'sec-fetch-site': 'same-origin' }, {}] as Record<string, string>[]) {
      const client = connectSync(server.url, fileDoc, { cookie: owner.cookie, headers });
      await client.synced;
      assert.match(client.text.toString(), /greet/);
      client.destroy();
    }
  });

  test('a personal access token still works from any origin (it is not ambient authority)', async () => {
    const { token } = await owner.api.tokens.create.mutate({ name: 'ci' });
    const client = connectSync(server.url, fileDoc, { token, headers: { origin: 'https://ci.example' } });
    await client.synced;
    assert.match(client.text.toString(), /greet/);
    client.destroy();
  });
});

describe('item 9: API mutations refuse cross-origin and non-JSON requests', () => {
  const signedIn = async () => (await owner.api.auth.me.query())?.id === owner.user.id;

  test('a cross-origin multipart form posting auth.signOut does not end the session (403)', async () => {
    const form = new FormData();
    form.append('x', '1');
    const res = await fetch(`${server.url}/api/trpc/auth.signOut`, { method: 'POST', headers: { cookie: owner.cookie, origin: 'http://localhost:1' }, body: form });
    assert.equal(res.status, 403);
    assert.ok(await signedIn(), 'still signed in');
  });

  test('a foreign Sec-Fetch-Site is refused even with a JSON body and a matching Origin', async () => {
    for (const site of ['cross-site', 'same-site']) {
      const res = await fetch(`${server.url}/api/trpc/auth.signOut`, {
        method: 'POST', headers: { cookie: owner.cookie, 'content-type': 'application/json', origin: `http://${host}`, 'sec-fetch-site': site }, body: '{}',
      });
      assert.equal(res.status, 403, site);
    }
    assert.ok(await signedIn());
  });

  test('simple-request bodies (form, multipart, text/plain) are refused with 415 even without Origin', async () => {
    for (const [type, body] of [['application/x-www-form-urlencoded', 'a=1'], ['text/plain', '{}'], ['multipart/form-data; boundary=x', '--x--']] as const) {
      const res = await fetch(`${server.url}/api/trpc/projects.create`, { method: 'POST', headers: { cookie: owner.cookie, 'content-type': type }, body });
      assert.equal(res.status, 415, type);
    }
    assert.equal((await owner.api.projects.list.query()).length, 1, 'nothing was created');
    assert.ok(await signedIn());
  });

  test('a cross-origin query is served as anonymous (the cookie is ignored)', async () => {
    const res = await fetch(`${server.url}/api/trpc/auth.me`, { headers: { cookie: owner.cookie, origin: 'http://localhost:1' } });
    assert.equal(((await res.json()) as { result: { data: unknown } }).result.data, null);
  });

  test('same-origin JSON mutations work', async () => {
    const res = await fetch(`${server.url}/api/trpc/projects.create`, {
      method: 'POST', headers: { cookie: owner.cookie, 'content-type': 'application/json', origin: `http://${host}`, 'sec-fetch-site': 'same-origin' }, body: JSON.stringify({ name: 'Q' }),
    });
    assert.equal(res.status, 200);
    const signOut = await fetch(`${server.url}/api/trpc/auth.signOut`, { method: 'POST', headers: { cookie: owner.cookie, 'content-type': 'application/json', origin: `http://${host}` }, body: '{}' });
    assert.equal(signOut.status, 200);
    assert.equal(await signedIn(), false, 'our own sign-out works');
  });
});
