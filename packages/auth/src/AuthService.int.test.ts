import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createPGliteTestDatabase, type TestDatabase } from '@tandem/db/testing';
import { AuthService, SESSION_COOKIE } from './AuthService.ts';

let db: TestDatabase;
let now = 1_700_000_000_000;
let auth: AuthService;
before(async () => {
  db = await createPGliteTestDatabase();
  auth = new AuthService(db.prisma, { secret: 'test-secret', now: () => now, sessionTtlMs: 60_000, maxFailuresPerAccount: 3, maxFailuresPerIp: 5 });
});
after(() => db.destroy());

test('sign up stores an argon2id hash, never the password; duplicate email refused', async () => {
  const u = await auth.signUp({ email: ' Ada@Example.com ', password: 'correct horse', name: 'Ada' });
  assert.equal(u.email, 'ada@example.com');
  const row = await db.prisma.user.findUniqueOrThrow({ where: { id: u.id } });
  assert.match(row.passwordHash, /^\$argon2id\$/);
  assert.ok(!row.passwordHash.includes('correct horse'));
  await assert.rejects(auth.signUp({ email: 'ada@example.com', password: 'x'.repeat(10), name: 'A' }), { code: 'CONFLICT' });
});

test('sign in checks the password; sessions expire', async () => {
  await assert.rejects(auth.signIn({ email: 'ada@example.com', password: 'nope', ip: '1.1.1.1' }), { code: 'UNAUTHENTICATED' });
  const u = await auth.signIn({ email: 'ADA@example.com', password: 'correct horse', ip: '1.1.1.1' });
  const { token } = await auth.createSession(u.id);
  const stored = await db.prisma.session.findMany();
  assert.ok(stored.every((s) => s.id !== token), 'only the hash is stored');
  assert.equal((await auth.authenticate({ cookie: `x=1; ${SESSION_COOKIE}=${token}` }))?.id, u.id);
  now += 61_000;
  assert.equal(await auth.authenticate({ cookie: `${SESSION_COOKIE}=${token}` }), null);
  assert.equal(await db.prisma.session.count({ where: { id: auth.hash(token) } }), 0, 'an expired session is deleted when presented');
  const s2 = await auth.createSession(u.id);
  await auth.endSession(s2.token);
  assert.equal(await auth.userForSession(s2.token), null);
});

test('sign-in is rate limited per account and per IP', async () => {
  await auth.signUp({ email: 'bob@example.com', password: 'bobpassword', name: 'Bob' });
  for (let i = 0; i < 3; i++) await assert.rejects(auth.signIn({ email: 'bob@example.com', password: 'bad', ip: `10.0.0.${i}` }), { code: 'UNAUTHENTICATED' });
  // The right password is refused while the account is limited.
  await assert.rejects(auth.signIn({ email: 'bob@example.com', password: 'bobpassword', ip: '10.0.0.9' }), { code: 'RATE_LIMITED' });
  for (let i = 0; i < 5; i++) await assert.rejects(auth.signIn({ email: `ghost${i}@example.com`, password: 'bad', ip: '6.6.6.6' }), { code: 'UNAUTHENTICATED' });
  await assert.rejects(auth.signIn({ email: 'ada@example.com', password: 'correct horse', ip: '6.6.6.6' }), { code: 'RATE_LIMITED' });
  now += 16 * 60_000;
  assert.equal((await auth.signIn({ email: 'bob@example.com', password: 'bobpassword', ip: '6.6.6.6' })).email, 'bob@example.com');
});

test('personal access tokens: hashed, usable by header and query, revocable, expiring', async () => {
  const u = await auth.signIn({ email: 'ada@example.com', password: 'correct horse', ip: '2.2.2.2' });
  const { token, id } = await auth.createToken(u.id, 'cli');
  assert.match(token, /^tdm_/);
  assert.equal((await db.prisma.apiToken.findUniqueOrThrow({ where: { id } })).tokenHash.includes(token), false);
  assert.equal((await auth.authenticate({ authorization: `Bearer ${token}` }))?.id, u.id);
  assert.equal((await auth.authenticate({ url: `/sync/p/tree?token=${token}` }))?.id, u.id);
  assert.equal((await auth.listTokens(u.id)).length, 1);
  await auth.revokeToken(u.id, id);
  assert.equal(await auth.authenticate({ authorization: `Bearer ${token}` }), null);
  await assert.rejects(auth.revokeToken(u.id, id), { code: 'NOT_FOUND' });
  const short = await auth.createToken(u.id, 'short', new Date(now + 1000));
  assert.ok(await auth.userForToken(short.token));
  now += 2000;
  assert.equal(await auth.userForToken(short.token), null);
  assert.equal(await auth.userForToken('tdm_forged'), null);
});
