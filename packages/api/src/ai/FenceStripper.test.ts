import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FenceStripper } from './FenceStripper.ts';

/** Seeded split of `text` into chunks (replay with FENCE_SEED=n). */
function* splits(text: string, seed: number): Generator<string> {
  let s = seed >>> 0;
  let i = 0;
  while (i < text.length) {
    s = (s * 1664525 + 1013904223) >>> 0;
    const n = 1 + (s % 5);
    yield text.slice(i, i + n);
    i += n;
  }
}

function run(text: string, seed: number): { out: string; closed: boolean } {
  const f = new FenceStripper();
  let out = '';
  for (const chunk of splits(text, seed)) {
    out += f.push(chunk);
    if (f.closed) return { out, closed: true };
  }
  return { out: out + f.end(), closed: false };
}

const CASES: [string, string, boolean][] = [
  ['a + b;', 'a + b;', false],
  ['```ts\na + b;\n```\nExplanation.', 'a + b;', true],
  ['```\nx\ny\n```', 'x\ny', true],
  ['  ```js\nreturn 1;', 'return 1;', false],
  ['`x` is fine', '`x` is fine', false],
  ['a\n``b', 'a\n``b', false],
  ['line\n```', 'line', true],
  ['   ', '   ', false],
];

test('strips an opening fence and stops at a closing one, however the text is split', () => {
  const base = Number(process.env.FENCE_SEED ?? Date.now() % 100_000);
  for (let k = 0; k < 50; k++) {
    const seed = base + k;
    for (const [input, expected, closed] of CASES) {
      assert.deepEqual(run(input, seed), { out: expected, closed }, `input ${JSON.stringify(input)}, FENCE_SEED=${seed}`);
    }
  }
});

test('plain text is not held back beyond a possible fence start', () => {
  const f = new FenceStripper();
  assert.equal(f.push('re'), 're');
  assert.equal(f.push('turn a\n'), 'turn a');
  assert.equal(f.push('b'), '\nb');
});
