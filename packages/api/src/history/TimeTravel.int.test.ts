import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as Y from 'yjs';
import { createPGliteTestDatabase, type TestDatabase } from '@tandem/db/testing';
import { isAppError } from '@tandem/protocol';
import { TIME_TRAVEL_LIMITS, TimeTravel } from './TimeTravel.ts';
import type { HistoryDocuments } from './HistoryService.ts';

let db: TestDatabase;
before(async () => {
  db = await createPGliteTestDatabase();
});
after(() => db.destroy());

const refused = (pattern: RegExp) => (e: unknown) => isAppError(e) && e.code === 'RATE_LIMITED' && pattern.test(e.message);

/**
 * Project replays read many rows: one at a time per person and a few at once per server (the
 * real database; the first step of every build, storing pending rows, is held open here so the
 * builds overlap for sure).
 */
test('project replays: one at a time per person, at most a few at once per server, the same one asked twice is shared', async () => {
  let release!: () => void;
  const held = new Promise<void>((resolve) => (release = resolve));
  const tree = new Y.Doc();
  const documents: HistoryDocuments = { editDocument: async () => {}, readDocument: async (_name, read) => read(tree), touch: () => {} };
  const travel = new TimeTravel(db.prisma, documents, () => undefined, async () => true, () => held);
  const projectId = 'p1';

  const first = travel.projectTimeline(projectId, 0, 10, 'ana');
  const shared = travel.projectTimeline(projectId, 0, 10, 'bo');
  await assert.rejects(travel.projectTimeline(projectId, 0, 11, 'ana'), refused(/still loading/));
  await assert.rejects(travel.projectSessions(projectId, 'ana'), refused(/still loading/));
  const others = ['bo', 'cy', 'di'].map((user, i) => travel.projectTimeline(projectId, 0, 20 + i, user));
  assert.equal(1 + others.length, TIME_TRAVEL_LIMITS.projectBuilds);
  await assert.rejects(travel.projectTimeline(projectId, 0, 30, 'ed'), refused(/busy/));

  release();
  const results = await Promise.all([first, shared, ...others]);
  assert.ok(results.every((r) => r.steps.length === 0 && !r.truncated));
  assert.equal(await first, await shared, 'the same replay asked twice is built once');
  // Done: served again.
  assert.deepEqual((await travel.projectTimeline(projectId, 0, 11, 'ana')).steps, []);
  assert.deepEqual(await travel.projectSessions(projectId, 'ed'), []);
});
