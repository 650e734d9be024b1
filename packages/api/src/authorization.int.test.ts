// Every authorization rule of the API, called through createCaller (no HTTP).
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createPGliteTestDatabase, type TestDatabase } from '@tandem/db/testing';
import { readTree, readText } from '@tandem/collab';
import { fileDocName, treeDocName } from '@tandem/protocol';
import { callerFactory } from './testing.ts';

let db: TestDatabase;
let t: ReturnType<typeof callerFactory>;
before(async () => {
  db = await createPGliteTestDatabase();
  t = callerFactory(db.prisma);
});
after(() => db.destroy());

async function projectWith(roles: Record<string, 'owner' | 'editor' | 'viewer'>) {
  const owner = await t.signUp('Owner');
  const p = await t.callerFor(owner).projects.create({ name: 'Shared', template: 'node' });
  const users: Record<string, Awaited<ReturnType<typeof t.signUp>>> = { owner };
  for (const [name, role] of Object.entries(roles)) {
    const u = await t.signUp(name);
    const inv = await t.callerFor(owner).invites.create({ projectId: p.id, role });
    await t.callerFor(u).invites.accept({ token: inv.token });
    users[name] = u;
  }
  return { p, users };
}

describe('accounts', () => {
  test('anonymous callers get UNAUTHORIZED; me is null', async () => {
    assert.equal(await t.callerFor(null).auth.me(), null);
    await assert.rejects(t.callerFor(null).projects.list(), { code: 'UNAUTHORIZED' });
  });
  test('input is validated with clear messages', async () => {
    await assert.rejects(t.callerFor(null).auth.signUp({ email: 'not-an-email', password: 'tandem-test-password', name: 'X' }), /valid email/);
    await assert.rejects(t.callerFor(null).auth.signUp({ email: 'a@b.co', password: 'short', name: 'X' }), /at least 10/);
  });
  test('a revoked token stops working', async () => {
    const u = await t.signUp('Tok');
    const { token, id } = await t.callerFor(u).tokens.create({ name: 'ci' });
    assert.equal((await t.auth.authenticate({ authorization: `Bearer ${token}` }))?.id, u.id);
    await t.callerFor(u).tokens.revoke({ id });
    assert.equal(await t.auth.authenticate({ authorization: `Bearer ${token}` }), null);
    assert.deepEqual(await t.callerFor(u).tokens.list(), []);
    const other = await t.signUp('Other');
    const second = await t.callerFor(u).tokens.create({ name: 'x' });
    await assert.rejects(t.callerFor(other).tokens.revoke({ id: second.id }), { code: 'NOT_FOUND' }, 'cannot revoke someone else\'s token');
  });
});

describe('projects and membership', () => {
  test('create from the starter template stores a file tree and file documents', async () => {
    const u = await t.signUp('Maker');
    const p = await t.callerFor(u).projects.create({ name: 'Hello', template: 'node' });
    const tree = await db.prisma.document.findUniqueOrThrow({ where: { name: treeDocName(p.id) } });
    const entries = readTree([tree.snapshot!]);
    const paths = Object.values(entries).map((e) => e.path).sort();
    assert.deepEqual(paths, ['README.md', 'package.json', 'src/greet.js', 'src/index.js', 'tandem.json']);
    const [fileId] = Object.entries(entries).find(([, e]) => e.path === 'src/index.js')!;
    const doc = await db.prisma.document.findUniqueOrThrow({ where: { name: fileDocName(p.id, fileId) } });
    assert.match(readText([doc.snapshot!]), /console\.log\(greet\('Tandem'\)\)/);
    assert.deepEqual((await t.callerFor(u).projects.list()).map((x) => [x.name, x.role]), [['Hello', 'owner']]);
  });

  test('a non-member sees nothing', async () => {
    const { p } = await projectWith({});
    const stranger = await t.signUp('Stranger');
    const s = t.callerFor(stranger);
    assert.deepEqual(await s.projects.list(), []);
    for (const call of [() => s.projects.get({ projectId: p.id }), () => s.members.list({ projectId: p.id }), () => s.projects.rename({ projectId: p.id, name: 'x' })]) {
      await assert.rejects(call(), { code: 'NOT_FOUND' });
    }
  });

  test('a viewer cannot rename, delete, invite or change roles; an editor can rename but not manage', async () => {
    const { p, users } = await projectWith({ Vic: 'viewer', Ed: 'editor' });
    const viewer = t.callerFor(users.Vic!);
    assert.equal((await viewer.projects.get({ projectId: p.id })).role, 'viewer');
    await assert.rejects(viewer.projects.rename({ projectId: p.id, name: 'Mine' }), { code: 'FORBIDDEN' });
    await assert.rejects(viewer.projects.delete({ projectId: p.id }), { code: 'FORBIDDEN' });
    await assert.rejects(viewer.invites.create({ projectId: p.id, role: 'owner' }), { code: 'FORBIDDEN' });
    await assert.rejects(viewer.members.setRole({ projectId: p.id, userId: users.Vic!.id, role: 'owner' }), { code: 'FORBIDDEN' });
    const editor = t.callerFor(users.Ed!);
    await editor.projects.rename({ projectId: p.id, name: 'Renamed' });
    assert.equal((await viewer.projects.get({ projectId: p.id })).name, 'Renamed');
    await assert.rejects(editor.members.remove({ projectId: p.id, userId: users.Vic!.id }), { code: 'FORBIDDEN' });
    await assert.rejects(editor.projects.delete({ projectId: p.id }), { code: 'FORBIDDEN' });
  });

  test('owners change roles and remove members; the server is told; the last owner stays', async () => {
    const { p, users } = await projectWith({ Ann: 'editor' });
    const owner = t.callerFor(users.owner!);
    await owner.members.setRole({ projectId: p.id, userId: users.Ann!.id, role: 'viewer' });
    assert.ok(t.events.log.includes(`access:${p.id}:${users.Ann!.id}:viewer`));
    await assert.rejects(t.callerFor(users.Ann!).projects.rename({ projectId: p.id, name: 'x' }), { code: 'FORBIDDEN' });
    await assert.rejects(owner.members.setRole({ projectId: p.id, userId: users.owner!.id, role: 'editor' }), { code: 'CONFLICT' });
    await assert.rejects(owner.members.remove({ projectId: p.id, userId: users.owner!.id }), { code: 'CONFLICT' });
    await owner.members.remove({ projectId: p.id, userId: users.Ann!.id });
    assert.ok(t.events.log.includes(`access:${p.id}:${users.Ann!.id}:null`));
    await assert.rejects(t.callerFor(users.Ann!).projects.get({ projectId: p.id }), { code: 'NOT_FOUND' });
  });

  test('members can leave; delete is owner only and announced', async () => {
    const { p, users } = await projectWith({ Leo: 'editor' });
    await t.callerFor(users.Leo!).members.remove({ projectId: p.id, userId: users.Leo!.id });
    assert.deepEqual((await t.callerFor(users.owner!).members.list({ projectId: p.id })).map((m) => m.name), ['Owner']);
    await t.callerFor(users.owner!).projects.delete({ projectId: p.id });
    assert.ok(t.events.log.includes(`deleted:${p.id}`));
    assert.equal(await db.prisma.document.count({ where: { projectId: p.id } }), 0);
  });
});

describe('invites', () => {
  test('an invite link grants its role; joining never downgrades', async () => {
    const { p, users } = await projectWith({ Eve: 'editor' });
    const inv = await t.callerFor(users.owner!).invites.create({ projectId: p.id, role: 'viewer' });
    assert.match(inv.url, /^http:\/\/localhost:3000\/invite\//);
    assert.deepEqual(await t.callerFor(users.Eve!).invites.preview({ token: inv.token }), { projectName: 'Shared', role: 'viewer', expiresAt: inv.expiresAt });
    await t.callerFor(users.Eve!).invites.accept({ token: inv.token });
    assert.equal((await t.callerFor(users.Eve!).projects.get({ projectId: p.id })).role, 'editor');
  });

  test('an expired invite is refused', async () => {
    const { p, users } = await projectWith({});
    const inv = await t.callerFor(users.owner!).invites.create({ projectId: p.id, role: 'editor', expiresInHours: 1 });
    await db.prisma.invite.update({ where: { id: inv.id }, data: { expiresAt: new Date(Date.now() - 1000) } });
    const late = await t.signUp('Late');
    await assert.rejects(t.callerFor(late).invites.accept({ token: inv.token }), { code: 'FORBIDDEN', message: /expired/ });
    await assert.rejects(t.callerFor(late).projects.get({ projectId: p.id }), { code: 'NOT_FOUND' });
  });

  test('a revoked or forged invite is refused; only owners list invites', async () => {
    const { p, users } = await projectWith({ Ed: 'editor' });
    const inv = await t.callerFor(users.owner!).invites.create({ projectId: p.id, role: 'editor' });
    await assert.rejects(t.callerFor(users.Ed!).invites.list({ projectId: p.id }), { code: 'FORBIDDEN' });
    assert.equal((await t.callerFor(users.owner!).invites.list({ projectId: p.id })).length, 2, 'the one Ed joined with, and the new one');
    await t.callerFor(users.owner!).invites.revoke({ projectId: p.id, inviteId: inv.id });
    const late = await t.signUp('Late2');
    await assert.rejects(t.callerFor(late).invites.accept({ token: inv.token }), { code: 'NOT_FOUND' });
    await assert.rejects(t.callerFor(late).invites.accept({ token: 'forged-token-123' }), { code: 'NOT_FOUND' });
  });
});
