import { Worker } from 'node:worker_threads';
import { AppError } from '@tandem/protocol';
import { runSearch, type SearchFile, type SearchLimits, type SearchOutcome, type SearchQuery } from './findMatches.ts';

/**
 * Runs searches in worker threads, off the event loop, each with a deadline: a regular expression
 * that backtracks for ever (or a huge project) costs one worker, which is terminated at the
 * deadline; the server and everyone else's requests are unaffected. At most `maxWorkers` run at
 * once (the rest are refused: searching is interactive, a queue would only answer stale queries).
 *
 * The worker evaluates `runSearch`'s own source (findMatches.ts is self-contained), so this works
 * the same under tsx and compiled builds, without a separate worker file to ship.
 */
export class SearchWorkers {
  #running = 0;
  /** The running search of each user: a newer one from the same user stops it. */
  readonly #byOwner = new Map<string, () => void>();

  constructor(private readonly options: { maxWorkers: number; timeoutMs: number }) {}

  run(owner: string, files: SearchFile[], query: SearchQuery, limits: SearchLimits, replacement: string | null): Promise<SearchOutcome> {
    this.#byOwner.get(owner)?.();
    if (this.#running >= this.options.maxWorkers) {
      return Promise.reject(new AppError('RATE_LIMITED', 'The server is busy with other searches; try again in a moment.'));
    }
    this.#running++;
    return new Promise<SearchOutcome>((resolve, reject) => {
      const worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { files, query, limits, replacement }, resourceLimits: { maxOldGenerationSizeMb: 256 } });
      let settled = false;
      const finish = (fn: () => void): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        this.#running--;
        if (this.#byOwner.get(owner) === supersede) this.#byOwner.delete(owner);
        void worker.terminate();
        fn();
      };
      const supersede = (): void => finish(() => reject(new AppError('CONFLICT', 'Replaced by a newer search.')));
      this.#byOwner.set(owner, supersede);
      const timer = setTimeout(() => finish(() => reject(new AppError('BAD_INPUT', `The search took longer than ${this.options.timeoutMs / 1000} s and was stopped; try a simpler pattern or narrow it with "files to include".`))), this.options.timeoutMs);
      worker.once('message', (outcome: SearchOutcome) => finish(() => resolve(outcome)));
      worker.once('error', (e) => finish(() => reject(new AppError('UNAVAILABLE', `The search failed: ${e.message}`))));
      worker.once('exit', () => finish(() => reject(new AppError('UNAVAILABLE', 'The search stopped unexpectedly.'))));
    });
  }
}

// esbuild (tsx) may wrap nested functions in `__name(...)`; give the worker a no-op one.
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const __name = (f) => f;
const runSearch = ${runSearch.toString()};
parentPort.postMessage(runSearch(workerData.files, workerData.query, workerData.limits, workerData.replacement));
`;
