// With several nodes the sign-in throttle and the per-IP budgets are counted once for the
// deployment (Redis), not once per node: a guesser alternating between two nodes (as a load
// balancer would send them) is slowed down as if there were one. Two node processes, one
// PostgreSQL, one Redis, the real HTTP API.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { TandemCluster } from '../testing/TandemCluster.ts';
import { signUpOverHttp, type SignedIn } from '../testing/clients.ts';

const SIGNUPS_PER_IP = 4;
let cluster: TandemCluster;
let owner: SignedIn;

before(async () => {
  cluster = await TandemCluster.start(2, { TANDEM_SIGNUPS_PER_IP_PER_HOUR: String(SIGNUPS_PER_IP) });
  owner = await signUpOverHttp(cluster.nodes[0]!.url, 'Owner'); // the first sign-up of this IP
});
after(async () => {
  await cluster?.destroy();
});

/** One tRPC mutation over HTTP; the error code and message, or 'ok'. */
async function mutate(node: number, path: string, input: unknown): Promise<{ code: string; message: string } | 'ok'> {
  const res = await fetch(`${cluster.nodes[node]!.url}/api/trpc/${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(input) });
  if (res.ok) return 'ok';
  const { error } = (await res.json()) as { error: { message: string; data: { code: string } } };
  return { code: error.data.code, message: error.message };
}

test('sign-ups per IP are counted across nodes', async () => {
  const outcomes: Awaited<ReturnType<typeof mutate>>[] = [];
  for (let i = 1; i <= SIGNUPS_PER_IP; i++) {
    outcomes.push(await mutate(i % 2, 'auth.signUp', { email: `person${i}-${Date.now()}@example.com`, password: 'a long enough passphrase', name: `Person ${i}` }));
  }
  assert.deepEqual(outcomes.slice(0, SIGNUPS_PER_IP - 1), Array(SIGNUPS_PER_IP - 1).fill('ok'));
  // Node 0 saw 2 of the 5 sign-ups, node 1 three: only a shared count refuses the fifth.
  const last = outcomes[SIGNUPS_PER_IP - 1]!;
  assert.ok(last !== 'ok', 'the sign-up past the limit is refused');
  assert.equal(last.code, 'TOO_MANY_REQUESTS');
  assert.match(last.message, /Too many sign-ups from your address/);
});

test('failed sign-ins alternating between nodes meet one progressive delay; the owner still gets in afterwards', async () => {
  const email = owner.user.email;
  const guess = (node: number) => mutate(node, 'auth.signIn', { email, password: 'a wrong guess here' });
  // Three free failures (default), spread over both nodes; the fourth starts a delay.
  for (const node of [0, 1, 0, 1]) assert.equal((await guess(node) as { code: string }).code, 'UNAUTHORIZED');
  // Node 0 has seen two failures, node 1 two: per node, neither would delay yet. Shared: both do.
  for (const node of [0, 1]) {
    const r = await guess(node);
    assert.ok(r !== 'ok');
    assert.equal(r.code, 'TOO_MANY_REQUESTS');
    assert.match(r.message, /Too many failed sign-in attempts\. Try again in 1 second/);
  }
  await new Promise((r) => setTimeout(r, 1200));
  assert.equal(await mutate(1, 'auth.signIn', { email, password: 'tandem-test-password' }), 'ok');
});
