import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TokenBucket } from './TokenBucket.ts';

test('a token bucket allows its burst, refills at its rate, and stays empty after a refusal', () => {
  let now = 0;
  const bucket = new TokenBucket(10, 5, () => now);
  for (let i = 0; i < 5; i++) assert.ok(bucket.take(1), `burst ${i}`);
  assert.equal(bucket.take(1), false);
  now += 100; // one token
  assert.ok(bucket.take(1));
  assert.equal(bucket.take(1), false);
  now += 10_000; // capped at the burst
  assert.ok(bucket.take(5));
  assert.equal(bucket.take(1), false);
  now += 300; // three tokens, but a cost of four is refused and empties the bucket
  assert.equal(bucket.take(4), false);
  assert.equal(bucket.take(1), false);
  assert.ok(bucket.take(0), 'a zero cost always passes');
});
