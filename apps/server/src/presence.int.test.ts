// Item 12: presence (awareness) is bound to the authenticated connection. A member cannot rewrite
// another participant's awareness state (their client id), and whatever they announce about
// themselves carries their own user id and name, set by the server.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as Y from 'yjs';
import { Awareness, encodeAwarenessUpdate } from 'y-protocols/awareness';
import { treeDocName } from '@tandem/protocol';
import { loadEnv } from './env.ts';
import { startTandemServer, type TandemServer } from './TandemServer.ts';
import { connectSync, signUpOverHttp, waitFor, type SignedIn, type SyncClient } from './testing/clients.ts';

let dataDir: string;
let server: TandemServer;
let owner: SignedIn;
let viewer: SignedIn;
let projectId: string;

before(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'tandem-presence-'));
  server = await startTandemServer(loadEnv({ PORT: '0', HOST: '127.0.0.1', TANDEM_DATA_DIR: dataDir, COOKIE_SECURE: 'false' }, []), { withWeb: false });
  owner = await signUpOverHttp(server.url, 'Owner');
  viewer = await signUpOverHttp(server.url, 'Mallory');
  projectId = (await owner.api.projects.create.mutate({ name: 'P' })).id;
  const invite = await owner.api.invites.create.mutate({ projectId, role: 'viewer' });
  await viewer.api.invites.accept.mutate({ token: invite.token });
});
after(async () => {
  await server?.close();
  rmSync(dataDir, { recursive: true, force: true });
});

type Presence = { user?: { id?: string; name?: string; color?: string } };
const stateOf = (client: SyncClient, id: number) => client.provider.awareness.getStates().get(id) as Presence | undefined;

/** An awareness message (y-websocket type 1) speaking for `clientId` with a clock far ahead. */
function forgedAwareness(clientId: number, state: Presence): Uint8Array {
  const doc = new Y.Doc();
  doc.clientID = clientId;
  const awareness = new Awareness(doc);
  for (let i = 0; i < 50; i++) awareness.setLocalState({ ...state, i });
  const update = encodeAwarenessUpdate(awareness, [clientId]);
  awareness.destroy();
  doc.destroy();
  return new Uint8Array([1, ...varUint(update.length), ...update]);
}

function varUint(n: number): number[] {
  const out: number[] = [];
  while (n > 0x7f) {
    out.push((n & 0x7f) | 0x80);
    n >>>= 7;
  }
  out.push(n);
  return out;
}

describe('item 12: awareness identity is enforced by the server', () => {
  test("a viewer cannot rewrite another participant's awareness state, and cannot pose as someone else", async () => {
    const name = treeDocName(projectId);
    const victim = connectSync(server.url, name, { cookie: owner.cookie });
    const observer = connectSync(server.url, name, { cookie: owner.cookie });
    const mallory = connectSync(server.url, name, { cookie: viewer.cookie });
    await Promise.all([victim.synced, observer.synced, mallory.synced]);
    const ownerUser = { id: owner.user.id, name: 'Owner', color: 'hsl(10 50% 50%)' };
    victim.provider.awareness.setLocalState({ user: ownerUser, activeFile: null });
    const victimId = victim.doc.clientID;
    await waitFor(() => stateOf(observer, victimId)?.user?.name === 'Owner' && stateOf(mallory, victimId) !== undefined, 'the owner is visible');

    // 1. Rewrite the owner's state through their client id.
    mallory.provider.ws!.send(forgedAwareness(victimId, { user: { id: owner.user.id, name: 'Owner (hacked)', color: 'hsl(0 100% 50%)' } }));
    // 2. Announce herself as the owner.
    mallory.provider.awareness.setLocalState({ user: { id: owner.user.id, name: 'Owner', color: 'hsl(10 50% 50%)' }, activeFile: null });
    const malloryId = mallory.doc.clientID;
    await waitFor(() => stateOf(observer, malloryId) !== undefined, "mallory's own state arrives");
    // Anything the server relayed is in by now (one socket, in order); give the forged one a moment more.
    await new Promise((r) => setTimeout(r, 300));

    assert.deepEqual(stateOf(observer, victimId)?.user, ownerUser, "the owner's state is untouched");
    assert.equal(stateOf(observer, malloryId)?.user?.id, viewer.user.id, "mallory's state carries her own user id");
    assert.equal(stateOf(observer, malloryId)?.user?.name, viewer.user.name, 'and her own name');
    assert.equal(mallory.closes.length, 0, 'echoes of other states are not an error: honest clients send them');

    // The owner can still update their own state.
    victim.provider.awareness.setLocalStateField('activeFile', 'x');
    await waitFor(() => (stateOf(observer, victimId) as { activeFile?: string } | undefined)?.activeFile === 'x', 'the owner updates their state');
    for (const c of [victim, observer, mallory]) c.destroy();
  });
});
