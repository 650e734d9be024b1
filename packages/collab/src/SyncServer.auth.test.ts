import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CLOSE_CODES } from '@tandem/protocol';
import { defaultMembership, startTestServer, type TestServer } from './testing/TestServer.ts';
import { TestClient } from './testing/TestClient.ts';
import { storedText } from './testing/storedText.ts';
import { waitFor } from './testing/waitFor.ts';
import { ROLE_CHANGED_CLOSE_CODE } from './SyncServer.ts';

const DOC = 'p1/file/auth';

/**
 * Proves the server has processed everything `client` sent before now: its awareness update
 * travels the same connection after the writes, and `observer` sees it only once relayed.
 */
async function barrier(client: TestClient, observer: TestClient, mark: number): Promise<void> {
  client.provider.awareness.setLocalStateField('mark', mark);
  await waitFor(() => observer.provider.awareness.getStates().get(client.doc.clientID)?.mark === mark, `barrier ${mark}`);
}

async function withServer(run: (server: TestServer, clients: TestClient[]) => Promise<void>): Promise<void> {
  const server = await startTestServer();
  const clients: TestClient[] = [];
  try {
    await run(server, clients);
  } finally {
    for (const client of clients) client.destroy();
    await server.close();
  }
}

test('no credentials → 4401, not a member → 4403 (final: no reconnect loop)', () =>
  withServer(async (server, clients) => {
    const anonymous = new TestClient(server.url, DOC, null);
    const outsider = new TestClient(server.url, 'p2/file/x', 'alice-token');
    const wrongToken = new TestClient(server.url, DOC, 'nope');
    clients.push(anonymous, outsider, wrongToken);
    await anonymous.closedWith(CLOSE_CODES.UNAUTHENTICATED);
    await wrongToken.closedWith(CLOSE_CODES.UNAUTHENTICATED);
    await outsider.closedWith(CLOSE_CODES.FORBIDDEN);
    assert.equal(outsider.provider.shouldConnect, false, 'the client stops reconnecting');
    assert.equal(server.sync.stats().connections, 0);
  }));

test('a viewer syncs and shares awareness, but its writes are dropped and never stored', () =>
  withServer(async (server, clients) => {
    const alice = new TestClient(server.url, DOC, 'alice-token');
    const victor = new TestClient(server.url, DOC, 'victor-token');
    clients.push(alice, victor);
    await alice.synced();
    alice.text.insert(0, 'owner text');
    await waitFor(() => victor.content === 'owner text', 'viewer receives updates');
    victor.text.insert(0, 'VIEWER ');
    await barrier(victor, alice, 1);
    assert.equal(alice.content, 'owner text', 'the viewer write never reached the owner');
    await server.sync.close();
    assert.equal(await storedText(server.store, DOC), 'owner text', 'the viewer write was not stored');
  }));

test('setAccess(null) closes open connections with 4403; other users stay', () =>
  withServer(async (server, clients) => {
    const alice = new TestClient(server.url, DOC, 'alice-token');
    const aliceElsewhere = new TestClient(server.url, DOC, 'alice-token');
    const bob = new TestClient(server.url, DOC, 'bob-token');
    clients.push(alice, aliceElsewhere, bob);
    await Promise.all(clients.map((c) => c.synced()));
    server.membership.setRole('p1', 'bob', null);
    server.sync.setAccess('p1', 'bob', null);
    await bob.closedWith(CLOSE_CODES.FORBIDDEN);
    assert.equal(bob.provider.shouldConnect, false, 'final: bob does not reconnect');
    server.sync.setAccess('p2', 'alice', null); // another project: no effect
    alice.text.insert(0, 'still here');
    await waitFor(() => aliceElsewhere.content === 'still here', 'alice keeps editing');
    assert.equal(server.sync.stats().connections, 2);
    assert.deepEqual(alice.closeCodes, []);
  }));

test('setAccess(null) while onAuthenticate is still running refuses the connection', async () => {
  let releaseAuth = () => {};
  const authGate = new Promise<void>((resolve) => (releaseAuth = resolve));
  const membership = defaultMembership();
  let started = false;
  const server = await startTestServer({
    membership,
    onAuthenticate: async (payload) => {
      started = true;
      await authGate;
      return membership.authenticate(payload); // still says editor: the DB read happened before the change
    },
  });
  const bob = new TestClient(server.url, DOC, 'bob-token');
  try {
    await waitFor(() => started, 'authentication started');
    server.sync.setAccess('p1', 'bob', null);
    releaseAuth();
    await bob.closedWith(CLOSE_CODES.FORBIDDEN);
  } finally {
    bob.destroy();
    await server.close();
  }
});

test('setAccess(viewer) drops writes at once and makes the client reconnect as a viewer', () =>
  withServer(async (server, clients) => {
    const alice = new TestClient(server.url, DOC, 'alice-token');
    const bob = new TestClient(server.url, DOC, 'bob-token');
    clients.push(alice, bob);
    await Promise.all([alice.synced(), bob.synced()]);
    bob.text.insert(0, 'editor text');
    await waitFor(() => alice.content === 'editor text', 'editor write arrives');

    server.membership.setRole('p1', 'bob', 'viewer');
    server.sync.setAccess('p1', 'bob', 'viewer');
    await bob.closedWith(ROLE_CHANGED_CLOSE_CODE);
    await waitFor(() => bob.provider.synced, 'bob reconnected');
    bob.text.insert(0, 'DEMOTED ');
    await barrier(bob, alice, 3);
    assert.equal(alice.content, 'editor text', 'writes after the downgrade are dropped');

    server.membership.setRole('p1', 'bob', 'editor');
    server.sync.setAccess('p1', 'bob', 'editor');
    await waitFor(() => bob.closeCodes.filter((c) => c === ROLE_CHANGED_CLOSE_CODE).length === 2, 'upgrade reconnects too');
    await waitFor(() => bob.provider.synced, 'bob reconnected as editor');
    bob.text.insert(bob.text.length, '!');
    await waitFor(() => alice.content.endsWith('!'), 'writes count again after the upgrade');
  }));

test('an owner → editor change keeps the connection open', () =>
  withServer(async (server, clients) => {
    const alice = new TestClient(server.url, DOC, 'alice-token');
    const bob = new TestClient(server.url, DOC, 'bob-token');
    clients.push(alice, bob);
    await Promise.all([alice.synced(), bob.synced()]);
    server.sync.setAccess('p1', 'alice', 'editor');
    alice.text.insert(0, 'x');
    await waitFor(() => bob.content === 'x', 'write still accepted');
    assert.deepEqual(alice.closeCodes, []);
  }));

test('revokeCredentials closes (4401) the connections opened with that credential; session expiry closes too', async () => {
  const membership = defaultMembership();
  const expiresSoon = Date.now() + 400;
  const server = await startTestServer({
    membership,
    tuning: { pingIntervalMs: 100 },
    onAuthenticate: async (payload) => {
      const session = await membership.authenticate(payload);
      const token = new URL(payload.request.url ?? '', 'http://x').searchParams.get('token') ?? '';
      return { ...session, credentialId: `cred:${token}`, expiresAt: session.user.id === 'victor' ? expiresSoon : null };
    },
  });
  const clients: TestClient[] = [];
  try {
    const alice = new TestClient(server.url, DOC, 'alice-token');
    const aliceOtherTab = new TestClient(server.url, DOC, 'alice-token');
    const bob = new TestClient(server.url, DOC, 'bob-token');
    const victor = new TestClient(server.url, DOC, 'victor-token');
    clients.push(alice, aliceOtherTab, bob, victor);
    await Promise.all(clients.map((c) => c.synced()));
    server.sync.revokeCredentials(['cred:alice-token']);
    await alice.closedWith(CLOSE_CODES.UNAUTHENTICATED);
    await aliceOtherTab.closedWith(CLOSE_CODES.UNAUTHENTICATED);
    assert.equal(alice.provider.shouldConnect, false, 'final: no reconnect');
    await victor.closedWith(CLOSE_CODES.UNAUTHENTICATED);
    bob.text.insert(0, 'bob stays');
    await waitFor(() => server.sync.stats().connections === 1, 'only bob is left');
    assert.deepEqual(bob.closeCodes, []);
  } finally {
    for (const c of clients) c.destroy();
    await server.close();
  }
});
