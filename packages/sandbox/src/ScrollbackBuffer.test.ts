import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ScrollbackBuffer } from './ScrollbackBuffer.ts';

/** mulberry32: small seeded PRNG so a failure replays with SCROLLBACK_SEED=<seed>. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

test('keeps exactly the last maxChars characters (randomized against a naive model)', (t) => {
  const seed = Number(process.env.SCROLLBACK_SEED ?? Date.now() % 1e9);
  const random = rng(seed);
  try {
    for (let round = 0; round < 50; round++) {
      const max = 1 + Math.floor(random() * 500);
      const buf = new ScrollbackBuffer(max);
      let model = '';
      for (let i = 0; i < 400; i++) {
        const len = Math.floor(random() * random() * max * 1.5);
        const text = String.fromCharCode(97 + (i % 26)).repeat(len) + i;
        buf.append(text);
        model = (model + text).slice(-max);
        assert.equal(buf.length, model.length);
      }
      assert.equal(buf.snapshot(), model);
    }
  } catch (e) {
    t.diagnostic(`seed ${seed} (replay with SCROLLBACK_SEED=${seed})`);
    throw e;
  }
});

test('rejects a non-positive size', () => {
  assert.throws(() => new ScrollbackBuffer(0), RangeError);
});
