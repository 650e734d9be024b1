import { performance } from 'node:perf_hooks';
import { setImmediate } from 'node:timers';

/** Longest stretch (ms) a replay computes before letting the event loop run others' work. */
export const SLICE_MS = 8;

/**
 * Runs a generator that yields between small pieces of work (as `ProjectTimeline.building`) to
 * its end, pausing for a turn of the event loop whenever it has computed for `sliceMs`: a large
 * replay takes a little longer but never holds up the server (others' requests, sync) for long.
 */
export async function runSliced<T>(work: Generator<void, T, void>, sliceMs = SLICE_MS): Promise<T> {
  let start = performance.now();
  for (;;) {
    const next = work.next();
    if (next.done) return next.value;
    if (performance.now() - start >= sliceMs) {
      await new Promise((resolve) => setImmediate(resolve));
      start = performance.now();
    }
  }
}
