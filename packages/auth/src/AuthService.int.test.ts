import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createPGliteTestDatabase, type TestDatabase } from '@tandem/db/testing';
import { AuthService, SESSION_COOKIE } from './AuthService.ts';

const PW = 'correct horse battery';
let db: TestDatabase;
let now = 1_700_000_000_000;
let auth: AuthService;
before(async () => {
  db = await createPGliteTestDatabase();
  auth = new AuthService(db.prisma, { secret: 'test-secret', now: () => now, sessionTtlMs: 60_000, signIn: { freeFailures: 3, baseDelayMs: 1000, maxFailuresPerIp: 20 }, signUpsPerIpPerHour: 1000 });
});
after(() => db.destroy());

test('sign up stores an argon2id hash, never the password', async () => {
  const u = await auth.signUp({ email: ' Ada@Example.com ', password: PW, name: 'Ada' });
  assert.equal(u.email, 'ada@example.com');
  const row = await db.prisma.user.findUniqueOrThrow({ where: { id: u.id } });
  assert.match(row.passwordHash, /^\$argon2id\$/);
  assert.ok(!row.passwordHash.includes(PW));
});

test('sign-up does not announce an existing account: same message as any unusable sign-up, no "exists"', async () => {
  const err = await auth.signUp({ email: 'ada@example.com', password: 'another long passphrase', name: 'A' }).catch((e: Error) => e);
  assert.ok(err instanceof Error);
  assert.doesNotMatch(err.message, /exist/i);
  // With the account's own password it simply signs in (the same answer a new account gets).
  assert.equal((await auth.signUp({ email: 'ada@example.com', password: PW, name: 'Whoever', ip: '9.9.9.9' })).name, 'Ada');
});

test('password policy: short and common passwords are refused with a clear message', async () => {
  for (const [password, message] of [['password', /at least 10/], ['password123', /too common/], ['qwertyuiop', /too common/], ['aaaaaaaaaaaa', /too common/], ['abcdefghijkl', /too common/], ['grace-hopper-rules', /email address or name/]] as const) {
    await assert.rejects(auth.signUp({ email: 'grace-hopper@example.com', password, name: 'Grace', ip: `p-${password}` }), (e: Error & { code?: string }) => {
      assert.equal(e.code, 'BAD_INPUT', password);
      assert.match(e.message, message);
      return true;
    });
  }
  assert.equal(await db.prisma.user.count({ where: { email: 'grace-hopper@example.com' } }), 0);
});

test('sign-up is limited per IP (150 sign-ups from one address in a burst no longer go through)', async () => {
  const limited = new AuthService(db.prisma, { secret: 'test-secret', now: () => now, signUpsPerIpPerHour: 5 });
  const results = await Promise.allSettled(Array.from({ length: 30 }, (_, i) => limited.signUp({ email: `burst${i}@example.com`, password: 'a long enough phrase', name: 'B', ip: '7.7.7.7' })));
  assert.equal(results.filter((r) => r.status === 'fulfilled').length, 5);
  assert.ok(results.filter((r) => r.status === 'rejected').every((r) => (r.reason as { code?: string }).code === 'RATE_LIMITED'));
  assert.equal(await db.prisma.user.count({ where: { email: { startsWith: 'burst' } } }), 5);
  // Another address is not affected.
  await limited.signUp({ email: 'other-ip@example.com', password: 'a long enough phrase', name: 'O', ip: '7.7.7.8' });
});

test('sign in checks the password; sessions expire', async () => {
  await assert.rejects(auth.signIn({ email: 'ada@example.com', password: 'nope', ip: '1.1.1.1' }), { code: 'UNAUTHENTICATED' });
  const u = await auth.signIn({ email: 'ADA@example.com', password: PW, ip: '1.1.1.1' });
  const { token } = await auth.createSession(u.id);
  const stored = await db.prisma.session.findMany();
  assert.ok(stored.every((s) => s.id !== token), 'only the hash is stored');
  assert.equal((await auth.authenticate({ cookie: `x=1; ${SESSION_COOKIE}=${token}` }))?.id, u.id);
  now += 61_000;
  assert.equal(await auth.authenticate({ cookie: `${SESSION_COOKIE}=${token}` }), null, 'a cached session ends at its expiry');
  assert.equal(await db.prisma.session.count({ where: { id: auth.hash(token) } }), 0, 'an expired session is deleted when presented');
  const s2 = await auth.createSession(u.id);
  assert.ok(await auth.userForSession(s2.token));
  await auth.endSession(s2.token);
  assert.equal(await auth.userForSession(s2.token), null, 'signing out drops the cached session at once');
});

test('concurrent sign-ins cannot outrun the throttle: 120 parallel guesses evaluate one', async () => {
  await auth.signUp({ email: 'race@example.com', password: PW, name: 'Race' });
  const results = await Promise.allSettled(Array.from({ length: 120 }, (_, i) => auth.signIn({ email: 'race@example.com', password: `guess-${i}`, ip: '3.3.3.3' })));
  const evaluated = results.filter((r) => r.status === 'rejected' && (r.reason as { code?: string }).code === 'UNAUTHENTICATED').length;
  assert.equal(evaluated, 1, `password checks evaluated: ${evaluated}`);
  assert.ok(results.every((r) => r.status === 'rejected'));
});

test('failures slow down the guesser (progressive delay per account and IP), never lock the owner out', async () => {
  await auth.signUp({ email: 'bob@example.com', password: 'bob has a long password', name: 'Bob' });
  const guess = () => auth.signIn({ email: 'bob@example.com', password: 'bad', ip: '6.6.6.6' });
  for (let i = 0; i < 3; i++) await assert.rejects(guess(), { code: 'UNAUTHENTICATED' });
  // Free failures used up: each further one doubles the wait (1 s, 2 s, 4 s …).
  await assert.rejects(guess(), { code: 'UNAUTHENTICATED' });
  await assert.rejects(guess(), (e: Error & { code?: string }) => e.code === 'RATE_LIMITED' && /1 second/.test(e.message));
  now += 1000;
  await assert.rejects(guess(), { code: 'UNAUTHENTICATED' });
  await assert.rejects(guess(), (e: Error & { code?: string }) => e.code === 'RATE_LIMITED' && /2 seconds/.test(e.message));
  now += 2000;
  await assert.rejects(guess(), { code: 'UNAUTHENTICATED' });
  await assert.rejects(guess(), /4 seconds/);
  // The real owner, from their own address, signs in at once (no account lock).
  assert.equal((await auth.signIn({ email: 'bob@example.com', password: 'bob has a long password', ip: '10.0.0.9' })).email, 'bob@example.com');
  // Even the right password waits out the delay from the guesser's address.
  await assert.rejects(auth.signIn({ email: 'bob@example.com', password: 'bob has a long password', ip: '6.6.6.6' }), { code: 'RATE_LIMITED' });
  now += 4000;
  assert.ok(await auth.signIn({ email: 'bob@example.com', password: 'bob has a long password', ip: '6.6.6.6' }));
});

test('one IP spraying many accounts is capped across accounts', async () => {
  for (let i = 0; i < 20; i++) await assert.rejects(auth.signIn({ email: `ghost${i}@example.com`, password: 'bad', ip: '8.8.8.8' }), { code: 'UNAUTHENTICATED' });
  await assert.rejects(auth.signIn({ email: 'ada@example.com', password: PW, ip: '8.8.8.8' }), { code: 'RATE_LIMITED' });
  now += 16 * 60_000;
  assert.ok(await auth.signIn({ email: 'ada@example.com', password: PW, ip: '8.8.8.8' }));
});

test('changing the password ends every other session', async () => {
  const u = await auth.signIn({ email: 'ada@example.com', password: PW, ip: '1.1.1.1' });
  const keep = await auth.createSession(u.id);
  const other = await auth.createSession(u.id);
  assert.ok(await auth.userForSession(other.token));
  await assert.rejects(auth.changePassword({ userId: u.id, currentPassword: 'wrong one here', newPassword: 'a brand new passphrase', keepSessionId: auth.hash(keep.token), ip: '1.1.1.1' }), { code: 'FORBIDDEN' });
  const ended = await auth.changePassword({ userId: u.id, currentPassword: PW, newPassword: 'a brand new passphrase', keepSessionId: auth.hash(keep.token), ip: '1.1.1.1' });
  assert.ok(ended.includes(auth.hash(other.token)));
  assert.equal(await auth.userForSession(other.token), null);
  assert.ok(await auth.userForSession(keep.token));
  await assert.rejects(auth.signIn({ email: 'ada@example.com', password: PW, ip: '1.1.1.1' }), { code: 'UNAUTHENTICATED' });
  assert.ok(await auth.signIn({ email: 'ada@example.com', password: 'a brand new passphrase', ip: '1.1.1.1' }));
});

test('personal access tokens: hashed, scoped, usable by header and query, revocable, expiring', async () => {
  const u = await auth.signIn({ email: 'ada@example.com', password: 'a brand new passphrase', ip: '2.2.2.2' });
  const { token, id } = await auth.createToken(u.id, 'cli');
  assert.match(token, /^tdm_/);
  assert.equal((await db.prisma.apiToken.findUniqueOrThrow({ where: { id } })).tokenHash.includes(token), false);
  assert.equal((await auth.authenticate({ authorization: `Bearer ${token}` }))?.id, u.id);
  assert.equal((await auth.authenticate({ url: `/sync/p/tree?token=${token}` }))?.id, u.id);
  const readOnly = await auth.createToken(u.id, 'reader', undefined, ['sync:read']);
  const caller = await auth.authenticateCaller({ authorization: `Bearer ${readOnly.token}` });
  assert.deepEqual(caller?.credential.scopes, ['sync:read']);
  assert.equal(caller?.credential.kind, 'token');
  await assert.rejects(auth.createToken(u.id, 'none', undefined, []), { code: 'BAD_INPUT' });
  assert.equal((await auth.listTokens(u.id)).length, 2);
  await auth.revokeToken(u.id, id);
  assert.equal(await auth.authenticate({ authorization: `Bearer ${token}` }), null, 'revocation drops the cached token at once');
  await assert.rejects(auth.revokeToken(u.id, id), { code: 'NOT_FOUND' });
  const short = await auth.createToken(u.id, 'short', new Date(now + 1000));
  assert.ok(await auth.userForToken(short.token));
  now += 2000;
  assert.equal(await auth.userForToken(short.token), null);
  assert.equal(await auth.userForToken('tdm_forged'), null);
});
