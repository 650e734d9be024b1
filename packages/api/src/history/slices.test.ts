import { test } from 'node:test';
import assert from 'node:assert/strict';
import { performance } from 'node:perf_hooks';
import { ProjectTimeline, type Author, type FileChange } from '@tandem/history';
import { runSliced } from './slices.ts';

/**
 * A project replay of 200,000 changes (what 40,000 rows of a busy project become, five times
 * over) is grouped in slices: a timer of 5 ms keeps firing while it runs (built at once, it would
 * not fire once until the end: one hold-up of the whole build), and it gives what building at once
 * gives. (Measured at load 8–11: longest hold-up 50–250 ms, GC and CPU contention included, vs 620 ms at once.)
 */
test('a large project replay lets the event loop run while it is built, with the same result', async () => {
  const authors: Author[] = [{ kind: 'person', userId: 'ana' }, { kind: 'person', userId: 'bo' }, { kind: 'system' }];
  const changes: FileChange[] = Array.from({ length: 200_000 }, (_, i) => ({
    file: `f${(i * 7919) % 1000}`, at: (i * 104_729) % 50_000_000, inserted: i % 5, deleted: i % 3, authors: [authors[i % 7 === 0 ? 1 : i % 11 === 0 ? 2 : 0]!],
  }));
  let ticks = 0;
  let last = performance.now();
  let maxGap = 0;
  const timer = setInterval(() => {
    const now = performance.now();
    maxGap = Math.max(maxGap, now - last);
    last = now;
    ticks++;
  }, 5);
  try {
    const started = performance.now();
    last = started;
    const timeline = await runSliced(ProjectTimeline.building(changes));
    const took = performance.now() - started;
    maxGap = Math.max(maxGap, performance.now() - last);
    // Loose bounds, relative to the build's own time (the machine may be loaded, a GC may pause it):
    // the timer kept firing during the build, no hold-up near the whole build (built at once: one, all of it).
    assert.ok(ticks >= 5, `the timer fired while the replay was built (${ticks} times in ${took.toFixed(0)} ms)`);
    assert.ok(maxGap < took / 2, `the event loop was held up at most ${maxGap.toFixed(0)} ms at a time (build: ${took.toFixed(0)} ms)`);
    const atOnce = ProjectTimeline.build(changes);
    assert.deepEqual(timeline.steps, atOnce.steps);
    assert.deepEqual(timeline.sessions, atOnce.sessions);
  } finally {
    clearInterval(timer);
  }
});
