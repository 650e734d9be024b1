import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createPGliteTestDatabase, type TestDatabase } from '@tandem/db/testing';
import { encodeDeletions } from '@tandem/history';
import { projectChanges } from './projectChanges.ts';

let db: TestDatabase;
before(async () => {
  db = await createPGliteTestDatabase();
});
after(() => db.destroy());

/**
 * A project's history rows are read a page at a time, newest first (real database): with more
 * rows than a page and many rows at the same time (ties across page boundaries), every row in the
 * range is read exactly once; with a cap, the newest rows are kept and the result says rows were left out.
 */
test('project changes are read in pages: every row in the range once, the newest ones under a cap', async () => {
  const { id: projectId } = await db.prisma.project.create({ data: { name: 'paged' } });
  const blob = Buffer.from(encodeDeletions([{ client: 9, from: 0, to: 3, text: 'abc' }]));
  // Row g: file g % 13, at second floor(g / 7) (7 rows at each time), insert of g % 50 + 1 characters.
  await db.prisma.$executeRawUnsafe(`INSERT INTO "HistorySpan" ("documentName","kind","clientId","clockKey","clockFrom","clockTo","at","projectId")
    SELECT $1 || '/file/f' || (g % 13), 'insert', g % 3, g, 0, g % 50 + 1, to_timestamp(1700000000 + floor(g / 7)), $1 FROM generate_series(0, 2599) g`, projectId);
  await db.prisma.$executeRawUnsafe(`INSERT INTO "HistoryDeletion" ("documentName","key","at","byUserId","data","projectId")
    SELECT $1 || '/file/f' || (g % 13), 'k' || g, to_timestamp(1700000000 + floor(g / 7)), 'u', $2, $1 FROM generate_series(0, 2599) g`, projectId, blob);
  const t0 = 1700000000_000;
  const summary = (changes: { file: string; at: number; inserted: number; deleted: number }[]) =>
    changes.map((c) => `${c.at - t0}:${c.file}:${c.inserted}:${c.deleted}`).sort();
  const expected = (from: number, to: number) => {
    const rows: string[] = [];
    for (let g = 0; g < 2600; g++) {
      const at = Math.floor(g / 7) * 1000;
      if (at < from || at > to) continue;
      rows.push(`${at}:f${g % 13}:${(g % 50) + 1}:0`, `${at}:f${g % 13}:0:3`);
    }
    return rows.sort();
  };

  const all = await projectChanges(db.prisma, projectId, { from: 0, to: 8.64e15 }, 20_000);
  assert.equal(all.truncated, false);
  assert.deepEqual(summary(all.changes), expected(-Infinity, Infinity));

  const range = await projectChanges(db.prisma, projectId, { from: t0 + 10_000, to: t0 + 300_000 }, 20_000);
  assert.deepEqual(summary(range.changes), expected(10_000, 300_000));

  // Capped at 1,500 rows of each kind: the rows from the 1,500th newest's time on (7 at a time: 1,498 complete + its own group cut).
  const capped = await projectChanges(db.prisma, projectId, { from: 0, to: 8.64e15 }, 1500);
  assert.equal(capped.truncated, true);
  const cut = Math.floor((2600 - 1500) / 7) * 1000;
  const kept = summary(capped.changes);
  assert.ok(kept.every((c) => Number(c.split(':')[0]) >= cut));
  assert.deepEqual(kept.filter((c) => Number(c.split(':')[0]) > cut), expected(cut + 1, Infinity));
});
