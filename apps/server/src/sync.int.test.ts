// The sync endpoint as users meet it: real server, real database, real y-websocket clients,
// authenticated by session cookie or personal access token, authorized by project membership.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CLOSE_CODES, TREE_MAP, fileDocName, treeDocName, type TreeEntry } from '@tandem/protocol';
import { readText } from '@tandem/collab';
import { loadEnv } from './env.ts';
import { startTandemServer, type TandemServer } from './TandemServer.ts';
import { closeCodeOf, connectSync, signUpOverHttp, waitFor, type SignedIn } from './testing/clients.ts';

let dataDir: string;
let server: TandemServer;
let owner: SignedIn;
let projectId: string;
let fileDoc: string;

const env = () => loadEnv({ PORT: '0', HOST: '127.0.0.1', TANDEM_DATA_DIR: dataDir, COOKIE_SECURE: 'false' }, []);

async function storedText(name: string): Promise<string> {
  const doc = await server.db.prisma.document.findUnique({ where: { name } });
  const updates = await server.db.prisma.documentUpdate.findMany({ where: { documentName: name }, orderBy: { id: 'asc' } });
  return readText([...(doc?.snapshot ? [doc.snapshot] : []), ...updates.map((u) => u.data)]);
}

async function member(name: string, role: 'editor' | 'viewer'): Promise<SignedIn> {
  const u = await signUpOverHttp(server.url, name);
  const inv = await owner.api.invites.create.mutate({ projectId, role });
  await u.api.invites.accept.mutate({ token: inv.token });
  return u;
}

before(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'tandem-sync-'));
  server = await startTandemServer(env(), { withWeb: false });
  owner = await signUpOverHttp(server.url, 'Owner');
  projectId = (await owner.api.projects.create.mutate({ name: 'P', template: 'node' })).id;
  const tree = connectSync(server.url, treeDocName(projectId), { cookie: owner.cookie });
  await tree.synced;
  const entries = tree.doc.getMap<TreeEntry>(TREE_MAP).toJSON() as Record<string, TreeEntry>;
  const [fileId] = Object.entries(entries).find(([, e]) => e.path === 'src/greet.js')!;
  fileDoc = fileDocName(projectId, fileId);
  tree.destroy();
});
after(async () => {
  await server?.close();
  rmSync(dataDir, { recursive: true, force: true });
});

describe('authentication and authorization on upgrade', () => {
  test('no credentials → 4401', async () => {
    assert.equal(await closeCodeOf(`${server.url.replace('http', 'ws')}/sync/${fileDoc}`), CLOSE_CODES.UNAUTHENTICATED);
  });

  test('a forged cookie or token → 4401', async () => {
    assert.equal(await closeCodeOf(`${server.url.replace('http', 'ws')}/sync/${fileDoc}`, { cookie: 'tandem_session=forged' }), CLOSE_CODES.UNAUTHENTICATED);
    assert.equal(await closeCodeOf(`${server.url.replace('http', 'ws')}/sync/${fileDoc}?token=tdm_forged`), CLOSE_CODES.UNAUTHENTICATED);
  });

  test('signed in, but not a member of the project → 4403', async () => {
    const stranger = await signUpOverHttp(server.url, 'Stranger');
    assert.equal(await closeCodeOf(`${server.url.replace('http', 'ws')}/sync/${fileDoc}`, { cookie: stranger.cookie }), CLOSE_CODES.FORBIDDEN);
  });

  test('a personal access token opens a document; revoked, it no longer does', async () => {
    const { token, id } = await owner.api.tokens.create.mutate({ name: 'cli' });
    const c = connectSync(server.url, fileDoc, { token });
    await c.synced;
    assert.match(c.text.toString(), /export function greet/);
    c.destroy();
    await owner.api.tokens.revoke.mutate({ id });
    assert.equal(await closeCodeOf(`${server.url.replace('http', 'ws')}/sync/${fileDoc}?token=${token}`), CLOSE_CODES.UNAUTHENTICATED);
  });
});

describe('roles on open connections', () => {
  test("a viewer's writes are dropped and stored content is unchanged", async () => {
    const viewer = await member('Viewer', 'viewer');
    const v = connectSync(server.url, fileDoc, { cookie: viewer.cookie });
    const o = connectSync(server.url, fileDoc, { cookie: owner.cookie });
    await Promise.all([v.synced, o.synced]);
    const before = await storedText(fileDoc);
    v.text.insert(0, 'VIEWER WAS HERE ');
    o.text.insert(o.text.length, '// owner edit\n');
    await waitFor(() => v.text.toString().includes('// owner edit'), 'owner edit reaches the viewer');
    assert.ok(!o.text.toString().includes('VIEWER'), 'owner never sees the viewer write');
    await new Promise((r) => setTimeout(r, 200)); // let a dropped write reach the store, if it were stored
    assert.equal(await storedText(fileDoc), before + '// owner edit\n');
    v.destroy();
    o.destroy();
  });

  test('a removed member is disconnected with 4403 and cannot reconnect', async () => {
    const ed = await member('Removed', 'editor');
    const c = connectSync(server.url, fileDoc, { cookie: ed.cookie });
    await c.synced;
    const before = await storedText(fileDoc);
    await owner.api.members.remove.mutate({ projectId, userId: ed.user.id });
    await waitFor(() => c.closes.includes(CLOSE_CODES.FORBIDDEN), 'close 4403');
    c.text.insert(0, 'too late ');
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(await storedText(fileDoc), before);
    assert.equal(await closeCodeOf(`${server.url.replace('http', 'ws')}/sync/${fileDoc}`, { cookie: ed.cookie }), CLOSE_CODES.FORBIDDEN);
    c.destroy();
  });

  test('an editor demoted to viewer is reconnected as viewer and can no longer write', async () => {
    const ed = await member('Demoted', 'editor');
    const c = connectSync(server.url, fileDoc, { cookie: ed.cookie });
    await c.synced;
    c.text.insert(0, '/* ok */');
    await waitFor(() => c.provider.wsconnected, 'connected');
    await new Promise((r) => setTimeout(r, 200));
    assert.ok((await storedText(fileDoc)).startsWith('/* ok */'));
    await owner.api.members.setRole.mutate({ projectId, userId: ed.user.id, role: 'viewer' });
    await waitFor(() => c.closes.includes(CLOSE_CODES.ROLE_CHANGED), 'close 4001');
    await waitFor(() => c.provider.wsconnected && c.provider.synced, 'reconnected');
    const before = await storedText(fileDoc);
    c.text.insert(0, 'dropped ');
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(await storedText(fileDoc), before);
    c.destroy();
  });
});

describe('durability', () => {
  test('graceful restart mid-session: content identical, clients reconnect and converge', async () => {
    const a = connectSync(server.url, fileDoc, { cookie: owner.cookie });
    const b = connectSync(server.url, fileDoc, { cookie: owner.cookie });
    await Promise.all([a.synced, b.synced]);
    for (let i = 0; i < 50; i++) (i % 2 ? a : b).text.insert(0, `${i},`);
    await waitFor(() => a.text.toString() === b.text.toString(), 'clients converge');
    const expected = a.text.toString();
    const port = new URL(server.url).port;
    await server.close();
    assert.equal(await storedText2(dataDir, fileDoc), expected, 'everything was stored at shutdown');
    server = await startTandemServer(loadEnv({ PORT: port, HOST: '127.0.0.1', TANDEM_DATA_DIR: dataDir, COOKIE_SECURE: 'false' }, []), { withWeb: false });
    await waitFor(() => a.provider.wsconnected && b.provider.wsconnected, 'clients reconnected', 15_000);
    a.text.insert(0, 'after restart ');
    await waitFor(() => b.text.toString() === 'after restart ' + expected, 'edit after restart reaches the other client');
    a.destroy();
    b.destroy();
  });
});

/** Reads a document from a closed server's embedded database. */
async function storedText2(dir: string, name: string): Promise<string> {
  const { openDatabase } = await import('@tandem/db');
  const db = await openDatabase({ dataDir: dir });
  try {
    const doc = await db.prisma.document.findUnique({ where: { name } });
    const updates = await db.prisma.documentUpdate.findMany({ where: { documentName: name }, orderBy: { id: 'asc' } });
    return readText([...(doc?.snapshot ? [doc.snapshot] : []), ...updates.map((u) => u.data)]);
  } finally {
    await db.close();
  }
}
