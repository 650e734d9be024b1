// Preview access (NetworkService.canView) against a real database: the membership is re-checked
// before the remembered answer expires, without making a request wait, and removals win.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { PrismaClient } from '@tandem/db';
import { createPGliteTestDatabase, type TestDatabase } from '@tandem/db/testing';
import { callerFactory } from '../testing.ts';
import { NetworkService } from './NetworkService.ts';

let db: TestDatabase;
let t: ReturnType<typeof callerFactory>;
before(async () => {
  db = await createPGliteTestDatabase();
  t = callerFactory(db.prisma);
});
after(() => db.destroy());

/** A project with an owner and an editor; the editor's preview cookie for port 8000. */
async function setUp(prisma: PrismaClient) {
  let clock = 1_000_000;
  const service = new NetworkService({ prisma, network: null, defaults: [], ceiling: [], secret: 'test-secret', previewUrl: () => 'http://x', now: () => clock });
  const owner = await t.signUp('Owner');
  const project = await t.callerFor(owner).projects.create({ name: 'Preview', template: 'node' });
  const editor = await t.signUp('Editor');
  const inv = await t.callerFor(owner).invites.create({ projectId: project.id, role: 'editor' });
  await t.callerFor(editor).invites.accept({ token: inv.token });
  const cookie = service.tokens.sign({ kind: 'session', projectId: project.id, port: 8000, userId: editor.id, exp: clock + 3600_000 });
  const removeEditor = () => db.prisma.membership.delete({ where: { projectId_userId: { projectId: project.id, userId: editor.id } } });
  return { service, cookie, projectId: project.id, editorId: editor.id, removeEditor, advance: (ms: number) => (clock += ms) };
}

/** The database as seen by the service, with membership reads counted and, when `gate` is set, held until it resolves. */
function watchedPrisma() {
  const state = { reads: 0, gate: null as Promise<void> | null };
  const membership = {
    findUnique: async (args: Parameters<PrismaClient['membership']['findUnique']>[0]) => {
      state.reads++;
      const answer = await db.prisma.membership.findUnique(args);
      if (state.gate) await state.gate;
      return answer;
    },
  };
  const prisma = new Proxy(db.prisma, { get: (target, p) => (p === 'membership' ? membership : Reflect.get(target, p)) });
  return { prisma, state };
}

describe('preview access', () => {
  test('renews a viewer\'s access in the background before it expires; a removal found then ends it at once', async () => {
    const { prisma, state } = watchedPrisma();
    const s = await setUp(prisma);
    assert.equal(await s.service.canView(s.cookie, s.projectId, 8000), true);
    assert.equal(state.reads, 1);
    s.advance(1000);
    assert.equal(await s.service.canView(s.cookie, s.projectId, 8000), true);
    assert.equal(state.reads, 1, 'fresh: answered from memory');

    // Past half its life: answered at once, and checked again meanwhile (the request does not wait for it).
    s.advance(2000);
    let release!: () => void;
    state.gate = new Promise((r) => (release = r));
    assert.equal(await s.service.canView(s.cookie, s.projectId, 8000), true);
    assert.equal(state.reads, 2);
    assert.equal(await s.service.canView(s.cookie, s.projectId, 8000), true);
    assert.equal(state.reads, 2, 'one check at a time');
    release();
    state.gate = null;
    await new Promise((r) => setTimeout(r, 50));

    // Renewed: still valid 4 s after the first check's expiry would have been.
    s.advance(4000);
    assert.equal(await s.service.canView(s.cookie, s.projectId, 8000), true);
    assert.equal(state.reads, 3, 'renewed again past half its life');
    await new Promise((r) => setTimeout(r, 50));

    await s.removeEditor();
    s.advance(3000);
    assert.equal(await s.service.canView(s.cookie, s.projectId, 8000), true, 'within the remembered time');
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(await s.service.canView(s.cookie, s.projectId, 8000), false, 'the background check found the removal');
  });

  test('a check under way when access is forgotten does not restore it', async () => {
    const { prisma, state } = watchedPrisma();
    const s = await setUp(prisma);
    let release!: () => void;
    state.gate = new Promise((r) => (release = r));
    const first = s.service.canView(s.cookie, s.projectId, 8000);
    await new Promise((r) => setTimeout(r, 50));
    // The editor is removed while the check (which read the membership before) is under way.
    await s.removeEditor();
    s.service.forgetAccess(s.projectId, s.editorId);
    release();
    state.gate = null;
    assert.equal(await first, true, 'answered from what it read');
    assert.equal(await s.service.canView(s.cookie, s.projectId, 8000), false, 'not remembered: checked again');
    assert.equal(state.reads, 2);
  });

  test('strangers, other ports and forged cookies are refused without reading the database', async () => {
    const { prisma, state } = watchedPrisma();
    const s = await setUp(prisma);
    assert.equal(await s.service.canView(s.cookie, s.projectId, 8001), false);
    assert.equal(await s.service.canView(`${s.cookie}x`, s.projectId, 8000), false);
    assert.equal(await s.service.canView(null, s.projectId, 8000), false);
    assert.equal(state.reads, 0);
  });
});
