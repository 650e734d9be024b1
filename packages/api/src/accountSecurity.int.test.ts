// Account and session attacks from the red-team pass (issue 12, items 1, 3, 5, 7), through createCaller.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createPGliteTestDatabase, type TestDatabase } from '@tandem/db/testing';
import type { Credential } from '@tandem/auth';
import { callerFactory, RecordedEvents } from './testing.ts';

let db: TestDatabase;
let t: ReturnType<typeof callerFactory>;
before(async () => {
  db = await createPGliteTestDatabase();
  t = callerFactory(db.prisma);
});
after(() => db.destroy());

const tokenCredential = (id: string, scopes: Credential['scopes']): Credential => ({ kind: 'token', id, expiresAt: null, scopes });

test('a removed member cannot come back through the invite link they joined with; a new link works', async () => {
  const owner = await t.signUp('Owner');
  const mallory = await t.signUp('Mallory');
  const p = await t.callerFor(owner).projects.create({ name: 'P' });
  const inv = await t.callerFor(owner).invites.create({ projectId: p.id, role: 'editor' });
  await t.callerFor(mallory).invites.accept({ token: inv.token });
  const removed = await t.callerFor(owner).members.remove({ projectId: p.id, userId: mallory.id });
  assert.deepEqual(removed.openInvites.map((i) => i.id), [inv.id], 'the owner is shown the links still open');
  await assert.rejects(t.callerFor(mallory).invites.accept({ token: inv.token }), (e: Error & { code?: string }) => e.code === 'FORBIDDEN' && /removed/.test(e.message));
  await assert.rejects(t.callerFor(mallory).projects.get({ projectId: p.id }), { code: 'NOT_FOUND' });
  // Others can still use the link.
  const carol = await t.signUp('Carol');
  await t.callerFor(carol).invites.accept({ token: inv.token });
  // The owner changes their mind: a link made after the removal lets Mallory back in.
  const again = await t.callerFor(owner).invites.create({ projectId: p.id, role: 'viewer' });
  await t.callerFor(mallory).invites.accept({ token: again.token });
  assert.equal((await t.callerFor(mallory).projects.get({ projectId: p.id })).role, 'viewer');
  // Leaving on your own is not a ban.
  const dave = await t.signUp('Dave');
  await t.callerFor(dave).invites.accept({ token: inv.token });
  assert.deepEqual((await t.callerFor(dave).members.remove({ projectId: p.id, userId: dave.id })).openInvites, []);
  await t.callerFor(dave).invites.accept({ token: inv.token });
});

test('personal access tokens cannot manage tokens, invites, passwords or delete projects', async () => {
  const owner = await t.signUp('TokenOwner');
  const p = await t.callerFor(owner).projects.create({ name: 'P' });
  const full = await t.auth.createToken(owner.id, 'full');
  const asToken = t.callerFor(owner, '127.0.0.1', undefined, tokenCredential(full.id, ['api', 'sync:read', 'sync:write']));
  // Everyday API calls work with the "api" scope.
  assert.equal((await asToken.projects.get({ projectId: p.id })).role, 'owner');
  const refused = (e: Error & { code?: string }) => e.code === 'FORBIDDEN' && /tokens cannot/.test(e.message);
  await assert.rejects(asToken.tokens.create({ name: 'child' }), refused);
  await assert.rejects(asToken.tokens.list(), refused);
  await assert.rejects(asToken.tokens.revoke({ id: full.id }), refused);
  await assert.rejects(asToken.invites.create({ projectId: p.id, role: 'owner' }), refused);
  await assert.rejects(asToken.invites.list({ projectId: p.id }), refused);
  await assert.rejects(asToken.projects.delete({ projectId: p.id }), refused);
  await assert.rejects(asToken.auth.changePassword({ currentPassword: 'tandem-test-password', newPassword: 'something else entirely' }), refused);
  assert.equal(await db.prisma.apiToken.count({ where: { userId: owner.id } }), 1, 'no token minted by a token');
  assert.equal(await db.prisma.invite.count({ where: { projectId: p.id } }), 0, 'no invite minted by a token');
  assert.ok(await db.prisma.project.findUnique({ where: { id: p.id } }));
  // A sync-only token cannot call the API at all.
  const syncOnly = t.callerFor(owner, '127.0.0.1', undefined, tokenCredential('x', ['sync:read']));
  await assert.rejects(syncOnly.projects.list(), (e: Error & { code?: string }) => e.code === 'FORBIDDEN' && /api/.test(e.message));
});

test('tokens are created with scopes; revoking one tells the server to close its connections', async () => {
  const events = new RecordedEvents();
  const f = callerFactory(db.prisma, t.auth, events);
  const u = await f.signUp('Scoped');
  const created = await f.callerFor(u).tokens.create({ name: 'reader', scopes: ['sync:read'] });
  assert.deepEqual(created.scopes, ['sync:read']);
  assert.deepEqual((await f.callerFor(u).tokens.list()).map((x) => x.scopes), [['sync:read']]);
  await assert.rejects(f.callerFor(u).tokens.create({ name: 'none', scopes: [] }), { code: 'BAD_REQUEST' });
  await f.callerFor(u).tokens.revoke({ id: created.id });
  assert.ok(events.log.includes(`revoked:${created.id}`));
  assert.equal(await t.auth.userForToken(created.token), null);
});

test('signing out and changing the password revoke the sessions involved', async () => {
  const events = new RecordedEvents();
  const f = callerFactory(db.prisma, t.auth, events);
  const u = await f.signUp('Leaver');
  const a = await t.auth.createSession(u.id);
  const b = await t.auth.createSession(u.id);
  const c = await t.auth.createSession(u.id);
  const sessionOf = (token: string): Credential => ({ kind: 'session', id: t.auth.hash(token), expiresAt: null, scopes: ['api', 'sync:read', 'sync:write'] });
  const cleared: string[] = [];
  const ctxA = { token: a.token, set: () => {}, clear: () => cleared.push('a') };
  const { createCaller } = await import('./root.ts');
  const callerA = createCaller({ prisma: db.prisma, auth: t.auth, events, services: f.services, user: u, credential: sessionOf(a.token), ip: '127.0.0.1', origin: 'http://x', session: ctxA });
  await callerA.auth.signOut();
  assert.ok(events.log.includes(`revoked:${t.auth.hash(a.token)}`));
  assert.deepEqual(cleared, ['a']);
  assert.equal(await t.auth.userForSession(a.token), null);
  const callerB = f.callerFor(u, '127.0.0.1', undefined, sessionOf(b.token));
  assert.equal((await callerB.auth.changePassword({ currentPassword: 'tandem-test-password', newPassword: 'an entirely new passphrase' })).endedSessions, 2, 'the sign-up session and c');
  assert.ok(events.log.includes(`revoked:${t.auth.hash(c.token)}`));
  assert.ok(await t.auth.userForSession(b.token), 'the session that changed the password stays');
  assert.equal(await t.auth.userForSession(c.token), null);
});

test('role changes and removals take effect at once despite the membership cache', async () => {
  const owner = await t.signUp('CacheOwner');
  const ed = await t.signUp('CacheEditor');
  const p = await t.callerFor(owner).projects.create({ name: 'P' });
  const inv = await t.callerFor(owner).invites.create({ projectId: p.id, role: 'editor' });
  await t.callerFor(ed).invites.accept({ token: inv.token });
  assert.equal((await t.callerFor(ed).projects.get({ projectId: p.id })).role, 'editor');
  await t.callerFor(ed).projects.rename({ projectId: p.id, name: 'cached as editor' });
  await t.callerFor(owner).members.setRole({ projectId: p.id, userId: ed.id, role: 'viewer' });
  await assert.rejects(t.callerFor(ed).projects.rename({ projectId: p.id, name: 'still editing?' }), { code: 'FORBIDDEN' });
  await t.callerFor(owner).members.remove({ projectId: p.id, userId: ed.id });
  await assert.rejects(t.callerFor(ed).projects.get({ projectId: p.id }), { code: 'NOT_FOUND' });
});
