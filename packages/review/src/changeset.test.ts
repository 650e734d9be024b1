import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as Y from 'yjs';
import { FILE_TEXT } from '@tandem/protocol';
import { AiEditOrigin } from './AiEditOrigin.ts';
import {
  anchorFileEdit, anchorHunks, applyChangesetHunk, hunkStatus, overlayText, reviewIndices, type ChangesetHunk, type HunkStatus,
} from './changeset.ts';
import { applyHunksToText, computeHunks } from './hunks.ts';
import { InMemoryNetwork } from './testing/InMemoryNetwork.ts';
import { SeededRandom, testSeed } from '@tandem/protocol/testing';

/**
 * The changeset overlay under concurrent human edits, against an independent model.
 *
 * The oracle is a list of cells, one per character of the live text, each remembering which base
 * character it was (or null: typed by a person). People type lowercase letters and delete
 * anywhere; the agent's files use only uppercase, digits and newlines, so nobody retypes base
 * text by accident. From the cells alone the oracle says what each hunk must be:
 *   conflict  every base character of a non-empty hunk is gone, and nothing a person typed inside
 *             or at the edge of its lines survives;
 *   stale     some of them are gone, or a person typed strictly between its first and last one
 *             (then, even once every base character is gone, what they typed is still inside);
 *   either    every base character is gone and text typed at an edge survives: whether Yjs placed
 *             it inside or outside the deleted characters depends on its search markers;
 *   intact    otherwise (insertion points are always intact);
 * Deleted cells stay in the model as tombstones, so "at an edge" is known after deletions too.
 * and what the agent must read (the live text with exactly the intact hunks replaced). Then the
 * intact hunks are accepted in random order; the live text must become exactly what the agent
 * read, and one undo of the changeset origin must bring back the text from before the accepts.
 * Replay with SEED=<n>.
 */

const ITERATIONS = 300;

interface Cell {
  ch: string;
  base: number | null;
  deleted: boolean;
  /** Hunks (by position) this cell was typed strictly inside of, or at an edge of. */
  inside: Set<number>;
  near: Set<number>;
}

type Expected = HunkStatus | 'either';

function matches(actual: HunkStatus, expected: Expected): boolean {
  return expected === 'either' ? actual !== 'intact' : actual === expected;
}

function baseCell(ch: string, base: number): Cell {
  return { ch, base, deleted: false, inside: new Set(), near: new Set() };
}

/** A person types `typed` at live offset `at`: the model records which hunks' lines it lands in or next to. */
function typeAt(all: Cell[], hunks: readonly ChangesetHunk[], at: number, typed: string): void {
  const liveBefore = (index: number) => all.slice(0, index).filter((c) => !c.deleted).length;
  const inside = new Set<number>();
  const near = new Set<number>();
  hunks.forEach((h, k) => {
    if (h.removed.length === 0) return;
    const own = all.flatMap((c, i) => (c.base !== null && c.base >= h.start && c.base < h.end ? [i] : []));
    const live = own.filter((i) => !all[i]!.deleted).map(liveBefore);
    if (live.length > 0 && live[0]! < at && at <= live[live.length - 1]!) inside.add(k);
    if (liveBefore(own[0]!) - 1 <= at && at <= liveBefore(own[own.length - 1]! + 1) + 1) near.add(k);
  });
  // Yjs puts typed text right after the live character before it, ahead of any tombstones.
  let index = 0;
  for (let seen = 0; seen < at; index++) if (!all[index]!.deleted) seen++;
  all.splice(index, 0, ...[...typed].map((ch): Cell => ({ ch, base: null, deleted: false, inside, near })));
}

function randomLine(r: SeededRandom): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';
  let s = '';
  for (let i = r.int(0, 12); i > 0; i--) s += alphabet[r.int(0, alphabet.length - 1)];
  return s + '\n';
}

function randomFile(r: SeededRandom): string[] {
  return Array.from({ length: r.int(0, 14) }, () => randomLine(r));
}

/** The agent's rewrite: some lines replaced, removed, inserted. */
function randomEdit(r: SeededRandom, lines: readonly string[]): string {
  const out: string[] = [];
  for (const line of lines) {
    const p = r.next();
    if (p < 0.15) continue;
    if (p < 0.3) out.push(randomLine(r));
    else out.push(line);
    if (r.chance(0.12)) out.push(randomLine(r));
  }
  if (out.length === 0 || r.chance(0.2)) out.push(randomLine(r));
  return out.join('');
}

function expectedStatus(cells: readonly Cell[], h: ChangesetHunk, k: number): Expected {
  if (h.removed.length === 0) return 'intact';
  const positions: number[] = [];
  cells.forEach((c, i) => {
    if (c.base !== null && c.base >= h.start && c.base < h.end) positions.push(i);
  });
  if (positions.length === 0) {
    if (cells.some((c) => c.inside.has(k))) return 'stale';
    return cells.some((c) => c.near.has(k)) ? 'either' : 'conflict';
  }
  if (positions.length < h.end - h.start) return 'stale';
  const first = positions[0]!;
  const last = positions[positions.length - 1]!;
  return last - first + 1 === positions.length ? 'intact' : 'stale';
}

/** Where an insertion hunk lands now: before the cell of its tie character, or null if that is gone. */
function insertionAt(cells: readonly Cell[], h: ChangesetHunk, baseLength: number): number | null {
  if (h.start === baseLength) return cells.length;
  const i = cells.findIndex((c) => c.base === h.start);
  return i === -1 ? null : i;
}

test('overlay under human edits matches an independent model (seeded)', () => {
  const seed = testSeed();
  const r = new SeededRandom(seed);
  try {
    for (let it = 0; it < ITERATIONS; it++) {
      const doc = new Y.Doc();
      doc.clientID = 1;
      const ytext = doc.getText(FILE_TEXT);
      const baseText = randomFile(r).join('');
      ytext.insert(0, baseText);
      const all: Cell[] = [...baseText].map((ch, i) => baseCell(ch, i));
      let cells = all;
      const proposed = randomEdit(r, baseText.match(/[^\n]*\n/g) ?? []);
      const hunks = anchorFileEdit(doc, proposed);
      assert.equal(overlayText(doc, hunks).text, proposed, `before anyone edits, the agent reads exactly what it wrote: ${JSON.stringify([baseText, proposed])}`);
      assert.deepEqual(reviewIndices({ kind: 'modify', path: 'a', newPath: null, content: null, hunks }), hunks.map((h) => h.index));

      // People edit the live file, often right at hunk edges.
      for (let e = r.int(0, 6); e > 0; e--) {
        const edges = hunks.flatMap((h) => [h.start, h.end]).map((b) => {
          const i = cells.findIndex((c) => c.base === b);
          return i === -1 ? cells.length : i;
        });
        if (r.chance(0.6)) {
          const at = edges.length > 0 && r.chance(0.6) ? r.pick(edges) : r.int(0, cells.length);
          const typed = 'abcdefgh'.slice(0, r.int(1, 3));
          ytext.insert(at, typed);
          typeAt(all, hunks, at, typed);
        } else if (cells.length > 0) {
          const at = r.int(0, cells.length - 1);
          const n = r.int(1, Math.min(cells.length - at, r.chance(0.3) ? 40 : 4));
          ytext.delete(at, n);
          for (const c of cells.slice(at, at + n)) c.deleted = true;
        }
        cells = all.filter((c) => !c.deleted);
      }
      assert.equal(ytext.toString(), cells.map((c) => c.ch).join(''), 'model and document agree');

      const expected = hunks.map((h, k) => expectedStatus(cells, h, k));
      const { text: read, statuses } = overlayText(doc, hunks);
      assert.ok(statuses.every((s, k) => matches(s, expected[k]!)), `statuses ${JSON.stringify(statuses)}, expected ${JSON.stringify(expected)}, iteration ${it}`);
      assert.deepEqual(hunks.map((h) => hunkStatus(doc, h)), statuses);

      // The model's overlay: replace every intact hunk's cells (or insert at its tie character).
      const tieGone = hunks.some((h, i) => expected[i] === 'intact' && h.removed.length === 0 && insertionAt(cells, h, baseText.length) === null);
      if (!tieGone) {
        const places = hunks.flatMap((h, i) => {
          if (expected[i] !== 'intact') return [];
          if (h.removed.length === 0) {
            const at = insertionAt(cells, h, baseText.length)!;
            return [{ start: at, end: at, inserted: h.inserted }];
          }
          const start = cells.findIndex((c) => c.base === h.start);
          return [{ start, end: start + h.removed.length, inserted: h.inserted }];
        }).sort((a, b) => a.start - b.start);
        let model = '';
        let at = 0;
        for (const p of places) {
          model += cells.slice(at, p.start).map((c) => c.ch).join('') + p.inserted;
          at = p.end;
        }
        model += cells.slice(at).map((c) => c.ch).join('');
        assert.equal(read, model, `the agent reads the live text with exactly the intact hunks, iteration ${it}`);
      }

      // Accept every intact hunk in random order under one origin; refuse the others.
      const before = ytext.toString();
      const origin = new AiEditOrigin(`cs${it}`, 'owner');
      const undo = new Y.UndoManager(ytext, { trackedOrigins: new Set([origin]), captureTimeout: Infinity });
      const order = hunks.map((_, i) => i).sort(() => r.next() - 0.5);
      for (const i of order) {
        const result = applyChangesetHunk(doc, hunks[i]!, origin);
        assert.equal(result.ok, expected[i] === 'intact', `hunk ${i} applies only when intact`);
        if (!result.ok) assert.ok(matches(result.status, expected[i]!));
      }
      assert.equal(ytext.toString(), read, 'accepting the intact hunks gives exactly what the agent read');
      undo.undo();
      assert.equal(ytext.toString(), before, 'one undo reverts the whole accepted change');
      doc.destroy();
    }
  } catch (e) {
    console.error(`replay with SEED=${seed}`);
    throw e;
  }
});

test('replicas editing concurrently: accepted hunks land once, replicas converge, undo reverts for all (seeded)', () => {
  const seed = testSeed();
  const r = new SeededRandom(seed);
  try {
    for (let it = 0; it < 150; it++) {
      const net = new InMemoryNetwork(3, r);
      const [server, a, b] = net.docs as [Y.Doc, Y.Doc, Y.Doc];
      const baseText = randomFile(r).join('');
      server.getText(FILE_TEXT).insert(0, baseText);
      net.flush();
      const proposed = randomEdit(r, baseText.match(/[^\n]*\n/g) ?? []);
      const hunks = anchorFileEdit(server, proposed);
      const origin = new AiEditOrigin(`cs${it}`, 'ed');
      const undo = new Y.UndoManager(server.getText(FILE_TEXT), { trackedOrigins: new Set([origin]), captureTimeout: Infinity });
      const pending = new Set(hunks.map((h) => h.index));
      for (let step = 0; step < 30; step++) {
        const person = r.pick([a, b]);
        const t = person.getText(FILE_TEXT);
        if (r.chance(0.5)) t.insert(r.int(0, t.length), r.pick(['q', 'zz', 'k\n']));
        else if (t.length > 0) {
          const at = r.int(0, t.length - 1);
          t.delete(at, r.int(1, Math.min(3, t.length - at)));
        }
        if (r.chance(0.3) && pending.size > 0) {
          const chosen = r.pick([...pending]);
          const h = hunks.find((x) => x.index === chosen)!;
          const status = hunkStatus(server, h);
          const before = server.getText(FILE_TEXT).toString();
          const result = applyChangesetHunk(server, h, origin);
          assert.equal(result.ok, status === 'intact');
          if (result.ok) {
            pending.delete(h.index);
          } else {
            assert.equal(server.getText(FILE_TEXT).toString(), before, 'a refused hunk changes nothing');
          }
        }
        net.tick();
      }
      net.flush();
      const texts = net.docs.map((d) => d.getText(FILE_TEXT).toString());
      assert.equal(texts[1], texts[0]);
      assert.equal(texts[2], texts[0]);
      undo.undo();
      net.flush();
      for (const d of net.docs) {
        const text = d.getText(FILE_TEXT).toString();
        for (const h of hunks) if (!pending.has(h.index) && /[A-Z0-9]/.test(h.inserted)) {
          // Every line the agent inserted was new (random uppercase): none may survive the undo intact.
          const line = h.inserted.split('\n').find((l) => l.length >= 6);
          if (line !== undefined && !baseText.includes(line)) assert.ok(!text.includes(line), `undo removed ${line}`);
        }
      }
      net.destroy();
    }
  } catch (e) {
    console.error(`replay with SEED=${seed}`);
    throw e;
  }
});

test('a selection edit\'s hunks, anchored one by one: an edit inside one hunk\'s lines stales exactly that hunk, the others apply in place (seeded)', () => {
  const seed = testSeed();
  const r = new SeededRandom(seed);
  try {
    for (let it = 0; it < 300; it++) {
      const doc = new Y.Doc();
      const ytext = doc.getText(FILE_TEXT);
      const prefix = randomFile(r).join('');
      const base = randomFile(r).join('') || 'ONE\n';
      const suffix = randomFile(r).join('');
      ytext.insert(0, prefix + base + suffix);
      const hunks = computeHunks(base, randomEdit(r, base.match(/[^\n]*\n/g) ?? []));
      const anchored = anchorHunks(ytext, prefix.length, base, hunks);
      assert.deepEqual(anchored.map((a) => a.index), hunks.map((h) => h.index));
      anchored.forEach((a, i) => {
        const h = hunks[i]!;
        assert.ok(a.start <= h.start && h.end <= a.end && a.start >= 0 && a.end <= base.length, 'each anchor covers its hunk, inside the range');
        assert.equal(a.removed, base.slice(a.start, a.end));
        assert.equal(a.inserted, base.slice(a.start, h.start) + h.inserted + base.slice(h.end, a.end), 'the same change');
        if (i > 0) assert.ok(anchored[i - 1]!.end <= a.start, 'anchors are disjoint');
      });

      // A person edits strictly inside one hunk's anchored lines (or, sometimes, only between hunks).
      const targets = anchored.filter((a) => a.end - a.start >= 2);
      const victim = targets.length > 0 && r.chance(0.8) ? r.pick(targets) : null;
      let at: number;
      if (victim) at = r.int(victim.start + 1, victim.end - 1);
      else {
        const gaps = [0, ...anchored.flatMap((a) => [a.start, a.end]), base.length];
        at = r.pick(gaps.filter((g) => !anchored.some((a) => g > a.start && g < a.end)));
      }
      ytext.insert(prefix.length + at, 'xyz');
      const statuses = anchored.map((a) => hunkStatus(doc, a));
      assert.deepEqual(statuses, anchored.map((a) => (a === victim ? 'stale' : 'intact')), `iteration ${it}: only the edited hunk is stale`);

      // Accept the intact ones in random order: the result is the edited base with exactly those hunks.
      const origin = new AiEditOrigin(`s${it}`, 'ed');
      for (const a of [...anchored].sort(() => r.next() - 0.5)) {
        assert.equal(applyChangesetHunk(doc, a, origin).ok, a !== victim);
      }
      const edited = base.slice(0, at) + 'xyz' + base.slice(at);
      // Typing at an anchor's end stays outside it, after the AI's text; at its start, before.
      const after = (i: number) => hunks[i]!.start > at || (hunks[i]!.start === at && anchored[i]!.start === at);
      const kept = hunks.flatMap((h, i) => (anchored[i] === victim ? [] : [after(i) ? { ...h, start: h.start + 3, end: h.end + 3 } : h]));
      assert.equal(ytext.toString(), prefix + applyHunksToText(edited, kept) + suffix, `iteration ${it}`);
      doc.destroy();
    }
  } catch (e) {
    console.error(`replay with SEED=${seed}`);
    throw e;
  }
});

test('two insertions around one line: the second stays a bare insertion point so both apply', () => {
  const doc = new Y.Doc();
  const ytext = doc.getText(FILE_TEXT);
  ytext.insert(0, 'A\nb\n');
  const base = 'b\n';
  const hunks = computeHunks(base, 'X\nb\nY\n');
  const anchored = anchorHunks(ytext, 2, base, hunks);
  assert.deepEqual(anchored.map((a) => [a.start, a.end]), [[0, 2], [2, 2]]);
  const origin = new AiEditOrigin('s', 'ed');
  for (const a of [...anchored].reverse()) assert.ok(applyChangesetHunk(doc, a, origin).ok);
  assert.equal(ytext.toString(), 'A\nX\nb\nY\n');
});
