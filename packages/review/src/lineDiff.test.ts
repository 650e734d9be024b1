import { test } from 'node:test';
import assert from 'node:assert/strict';
import { diffIds, diffLines, splitLines } from './lineDiff.ts';
import { SeededRandom, testSeed } from '@tandem/protocol/testing';

/** LCS length table by dynamic programming: the reference the Myers diff must match. */
function lcsTable(a: Int32Array, b: Int32Array): number[][] {
  const t = Array.from({ length: a.length + 1 }, () => new Array<number>(b.length + 1).fill(0));
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      t[i]![j] = a[i - 1] === b[j - 1] ? t[i - 1]![j - 1]! + 1 : Math.max(t[i - 1]![j]!, t[i]![j - 1]!);
    }
  }
  return t;
}

function assertValidMatches(a: Int32Array, b: Int32Array, matches: readonly { a: number; b: number }[]): void {
  for (let i = 0; i < matches.length; i++) {
    const m = matches[i]!;
    assert.equal(a[m.a], b[m.b], 'a match pairs equal lines');
    if (i > 0) assert.ok(m.a > matches[i - 1]!.a && m.b > matches[i - 1]!.b, 'matches increase');
  }
}

test('splitLines keeps terminators and a final unterminated line', () => {
  assert.deepEqual(splitLines(''), []);
  assert.deepEqual(splitLines('a\n\nb'), ['a\n', '\n', 'b']);
  assert.deepEqual(splitLines('a\n'), ['a\n']);
});

test('randomized: Myers finds a longest common subsequence; the prefix mode a cheapest prefix (seeded)', () => {
  const seed = testSeed();
  const random = new SeededRandom(seed);
  try {
    for (let run = 0; run < 1500; run++) {
      const alphabet = random.int(1, 4);
      const a = Int32Array.from({ length: random.int(0, 12) }, () => random.int(0, alphabet));
      const b = Int32Array.from({ length: random.int(0, 12) }, () => random.int(0, alphabet));
      const table = lcsTable(a, b);
      const full = diffIds(a, b)!;
      assertValidMatches(a, b, full.matches);
      assert.equal(full.matches.length, table[a.length]![b.length], 'full diff is an LCS');
      assert.equal(full.aEnd, a.length);

      const prefix = diffIds(a, b, true)!;
      assertValidMatches(a, b, prefix.matches);
      assert.ok(prefix.matches.every((m) => m.a < prefix.aEnd));
      const cost = (x: number, lcs: number) => x + b.length - 2 * lcs;
      const best = Math.min(...table.map((row, x) => cost(x, row[b.length]!)));
      assert.equal(cost(prefix.aEnd, prefix.matches.length), best, 'prefix diff is cheapest over all prefixes of a');
    }
  } catch (e) {
    console.error(`line diff fuzz failed; replay with SEED=${seed}`);
    throw e;
  }
});

test('beyond the edit-cost cap the middle is one change; common head and tail still match', () => {
  const a = ['h\n', ...Array.from({ length: 2000 }, (_, i) => `a${i}\n`), 't\n'];
  const b = ['h\n', ...Array.from({ length: 2000 }, (_, i) => `b${i}\n`), 't\n'];
  const d = diffLines(a, b);
  assert.deepEqual(d.matches, [{ a: 0, b: 0 }, { a: 2001, b: 2001 }]);
});
