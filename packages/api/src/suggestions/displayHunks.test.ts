import { test } from 'node:test';
import assert from 'node:assert/strict';
import { computeHunks } from '@tandem/review';
import { compactDisplay, expandDisplay } from './displayHunks.ts';

/** Small deterministic generator (mulberry32), so a failing case replays from its seed. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function randomCode(next: () => number, lines: number): string {
  const words = ['a', 'b', 'if (x) {', '}', 'return y;', '  z++;', ''];
  let out = '';
  for (let i = 0; i < lines; i++) out += words[Math.floor(next() * words.length)] + '\n';
  return next() < 0.3 ? out.slice(0, -1) : out;
}

test('display hunks rebuilt from offsets equal the computed hunks, for every streamed prefix (seeded)', () => {
  const seed = Number(process.env.SEED ?? Date.now() % 1_000_000);
  const next = random(seed);
  try {
    for (let round = 0; round < 150; round++) {
      const base = randomCode(next, Math.floor(next() * 12));
      const proposed = randomCode(next, Math.floor(next() * 14));
      for (let cut = 0; cut <= proposed.length; cut += 1 + Math.floor(next() * 4)) {
        const prefix = proposed.slice(0, cut);
        for (const streaming of [true, false]) {
          const expected = computeHunks(base, prefix, { streaming }).map((h) => ({ start: h.start, end: h.end, inserted: h.inserted }));
          const rebuilt = expandDisplay(compactDisplay(base, prefix, streaming), prefix).map(({ index: _i, ...h }) => h);
          assert.deepEqual(rebuilt, expected, `base ${JSON.stringify(base)} prefix ${JSON.stringify(prefix)} streaming ${streaming}`);
        }
      }
    }
  } catch (e) {
    console.error(`replay with SEED=${seed}`);
    throw e;
  }
});
