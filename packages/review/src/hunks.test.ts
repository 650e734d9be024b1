import { test } from 'node:test';
import assert from 'node:assert/strict';
import { applyHunksToText, assertHunksFit, computeHunks, rebaseHunks, type Hunk } from './hunks.ts';
import { SeededRandom, testSeed } from '@tandem/protocol/testing';

const h = (index: number, start: number, end: number, removed: string, inserted: string): Hunk => ({ index, start, end, removed, inserted });

test('identical texts have no hunks; both empty too', () => {
  assert.deepEqual(computeHunks('a\nb\n', 'a\nb\n'), []);
  assert.deepEqual(computeHunks('', ''), []);
});

test('insert-only: a new line between two others', () => {
  assert.deepEqual(computeHunks('a\nc\n', 'a\nb\nc\n'), [h(0, 2, 2, '', 'b\n')]);
});

test('delete-only: a line removed', () => {
  assert.deepEqual(computeHunks('a\nb\nc\n', 'a\nc\n'), [h(0, 2, 4, 'b\n', '')]);
});

test('replace: adjacent changed lines merge into one hunk', () => {
  assert.deepEqual(computeHunks('a\nb\nc\nd\n', 'a\nB\nC\nd\n'), [h(0, 2, 6, 'b\nc\n', 'B\nC\n')]);
  // a deletion next to an insertion is one hunk, not two
  assert.deepEqual(computeHunks('a\nb\nc\n', 'a\nc\nx\n'), [h(0, 2, 4, 'b\n', ''), h(1, 6, 6, '', 'x\n')]);
  assert.deepEqual(computeHunks('a\nb\nc\n', 'a\nX\nY\nZ\nc\n'), [h(0, 2, 4, 'b\n', 'X\nY\nZ\n')]);
});

test('multiple hunks separated by unchanged lines, indexed in order', () => {
  const hunks = computeHunks('1\n2\n3\n4\n5\n', '1\nTWO\n3\n4\nFIVE\nsix\n');
  assert.deepEqual(hunks, [h(0, 2, 4, '2\n', 'TWO\n'), h(1, 8, 10, '5\n', 'FIVE\nsix\n')]);
});

test('empty base: one insertion of everything; empty proposal: one deletion of everything', () => {
  assert.deepEqual(computeHunks('', 'x\ny'), [h(0, 0, 0, '', 'x\ny')]);
  assert.deepEqual(computeHunks('x\ny', ''), [h(0, 0, 3, 'x\ny', '')]);
});

test('trailing newline: added, removed, and a last line without one', () => {
  assert.deepEqual(computeHunks('a\nb', 'a\nb\n'), [h(0, 2, 3, 'b', 'b\n')]);
  assert.deepEqual(computeHunks('a\nb\n', 'a\nb'), [h(0, 2, 4, 'b\n', 'b')]);
  assert.deepEqual(computeHunks('a\nb', 'a\nc'), [h(0, 2, 3, 'b', 'c')]);
  assert.deepEqual(computeHunks('a', 'a\n\n'), [h(0, 0, 1, 'a', 'a\n\n')]);
  assert.deepEqual(computeHunks('\n', '\n\n'), [h(0, 1, 1, '', '\n')]);
});

test('CRLF and astral characters keep exact UTF-16 offsets', () => {
  const base = 'a\r\n😀b\r\nc\r\n';
  const hunks = computeHunks(base, 'a\r\n😀B\r\nc\r\n');
  assert.deepEqual(hunks, [h(0, 3, 8, '😀b\r\n', '😀B\r\n')]);
});

test('applyHunksToText applies any subset; rebaseHunks keeps the rest applicable', () => {
  const base = '1\n2\n3\n4\n5\n6\n7\n';
  const proposed = 'one\n2\n3\nfour\nfour and a half\n5\n6\n';
  const hunks = computeHunks(base, proposed);
  assert.equal(hunks.length, 3);
  assert.equal(applyHunksToText(base, hunks), proposed);
  for (let mask = 0; mask < 8; mask++) {
    const first = [0, 1, 2].filter((i) => mask & (1 << i));
    const rest = [0, 1, 2].filter((i) => !(mask & (1 << i)));
    const mid = applyHunksToText(base, hunks, first);
    const remaining = rebaseHunks(hunks, first);
    assert.deepEqual(remaining.map((x) => x.index), rest);
    assert.equal(applyHunksToText(mid, remaining), proposed, `mask ${mask}`);
  }
});

test('hunks that do not fit their base are refused with BAD_INPUT', () => {
  const base = 'a\nb\nc\n';
  const bad: Hunk[][] = [
    [h(0, 2, 4, 'x\n', '')], // removed text differs
    [h(0, 2, 40, 'b\nc\n', '')], // out of range
    [h(0, 4, 6, 'c\n', ''), h(1, 2, 4, 'b\n', '')], // unsorted
    [h(0, 0, 4, 'a\nb\n', ''), h(1, 2, 4, 'b\n', '')], // overlapping
    [h(0, 0, 2, 'a\n', ''), h(0, 4, 6, 'c\n', '')], // duplicate index
  ];
  for (const hunks of bad) assert.throws(() => assertHunksFit(base, hunks), { code: 'BAD_INPUT' });
  assert.throws(() => applyHunksToText(base, computeHunks(base, 'a\n'), [7]), { code: 'BAD_INPUT' });
});

test('a total rewrite beyond the edit-cost cap is still exact (one hunk)', () => {
  const base = Array.from({ length: 2000 }, (_, i) => `old ${i}\n`).join('');
  const proposed = Array.from({ length: 2000 }, (_, i) => `new ${i}\n`).join('');
  const started = performance.now();
  const hunks = computeHunks(base, proposed);
  assert.equal(hunks.length, 1);
  assert.equal(applyHunksToText(base, hunks), proposed);
  assert.ok(performance.now() - started < 5000);
});

function randomLines(random: SeededRandom, count: number): string[] {
  return Array.from({ length: count }, () => random.pick(['a', 'b', 'c', 'd', '', '  x', '}']) + '\n');
}

function mutate(random: SeededRandom, lines: string[]): string[] {
  const out = [...lines];
  for (let n = random.int(0, 4); n > 0; n--) {
    const at = random.int(0, out.length);
    const op = random.int(0, 2);
    if (op === 0) out.splice(at, 0, ...randomLines(random, random.int(1, 3)));
    else if (op === 1) out.splice(at, random.int(1, 3));
    else out.splice(at, 1, `changed ${random.int(0, 9)}\n`);
  }
  return out;
}

test('randomized: hunks reproduce the proposal, stay disjoint and separated; streaming prefixes are consistent (seeded)', () => {
  const seed = testSeed();
  const random = new SeededRandom(seed);
  try {
    for (let run = 0; run < 400; run++) {
      const baseLines = randomLines(random, random.int(0, 25));
      const base = baseLines.join('') + (random.chance(0.3) ? 'no newline' : '');
      const proposed = mutate(random, baseLines).join('') + (random.chance(0.3) ? 'end' : '');
      const hunks = computeHunks(base, proposed);
      assertHunksFit(base, hunks);
      assert.equal(applyHunksToText(base, hunks), proposed);
      for (let i = 1; i < hunks.length; i++) {
        assert.ok(hunks[i]!.start > hunks[i - 1]!.end, 'hunks are separated by at least one unchanged line');
      }
      // Streaming: every prefix yields hunks that turn base into (prefix, minus a pending unfinished
      // line) followed by an untouched tail of the base.
      for (let cut = 0; cut <= proposed.length; cut += random.int(1, 7)) {
        const prefix = proposed.slice(0, cut);
        const partial = computeHunks(base, prefix, { streaming: true });
        const shown = applyHunksToText(base, partial);
        const lastNl = prefix.lastIndexOf('\n') + 1;
        const ok = [prefix, prefix.slice(0, lastNl)].some((head) => shown.startsWith(head) && base.endsWith(shown.slice(head.length)));
        assert.ok(ok, `prefix ${JSON.stringify(prefix)} of base ${JSON.stringify(base)} shown as ${JSON.stringify(shown)}`);
      }
    }
  } catch (e) {
    console.error(`hunk fuzz failed; replay with SEED=${seed}`);
    throw e;
  }
});

test('streaming: base lines not reached yet are not shown as deleted; a pending half line is not shown', () => {
  const base = 'a\nb\nc\nd\n';
  assert.deepEqual(computeHunks(base, 'a\nX\n', { streaming: true }), [h(0, 2, 2, '', 'X\n')]);
  assert.deepEqual(computeHunks(base, 'a\nb\nc', { streaming: true }), []);
  assert.deepEqual(computeHunks(base, 'a\nb\nQ', { streaming: true }), [h(0, 4, 4, '', 'Q')]);
  // once complete, the reviewed diff is the real one
  assert.deepEqual(computeHunks(base, 'a\nX\n'), [h(0, 2, 8, 'b\nc\nd\n', 'X\n')]);
});
