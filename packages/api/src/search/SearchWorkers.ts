import { Worker } from 'node:worker_threads';
import { AppError } from '@tandem/protocol';
import { runSearch, type SearchFile, type SearchLimits, type SearchOutcome, type SearchQuery } from './findMatches.ts';
import { requiredLiteral } from './searchFilter.ts';

/** Text (UTF-16 code units) one warm worker keeps: past it, its cache is cleared and refilled. */
const CACHE_CHARS = 32 * 1024 * 1024;

/** A file to search: `key` (the file's document id) lets a warm worker keep its text between searches. */
export interface KeyedSearchFile extends SearchFile { key?: string }

/**
 * Files as sent to a worker (see #message): the list (`paths`, `keys`; left out when it is the
 * worker's last list again), and the texts it does not hold: `texts[j]` is file `changed[j]`'s.
 * `clear`: forget every text held before.
 */
interface WireFiles { paths?: string[]; keys?: string[]; changed: number[]; texts: string[]; clear: boolean }

/** A worker thread that stays up between searches, with the texts it was sent. */
interface WarmWorker {
  worker: Worker;
  /** What the worker holds for each key (compared by value before sending a text again). */
  sent: Map<string, string>;
  chars: number;
  /** The file list it was last sent (each message without a list means this one). */
  list: { paths: string[]; keys: string[] } | null;
  /** The search it is working on, if any. */
  settle: ((outcome: SearchOutcome | Error) => void) | null;
}

/**
 * Runs searches in worker threads, off the event loop, each with a deadline: a regular expression
 * that backtracks for ever (or a huge project) costs one worker, which is terminated at the
 * deadline (or when its owner's next search supersedes it); the server and everyone else's
 * requests are unaffected. At most `maxWorkers` run at once (the rest are refused: searching is
 * interactive, a queue would only answer stale queries).
 *
 * Workers stay up between searches (one is started at once) and keep the texts of keyed files:
 * a search sends only the texts that changed since that worker's last one, so searching a
 * project costs a message of paths, not a copy of the project. Files whose text cannot contain a
 * match (a plain run of characters the pattern requires is missing) are skipped before any
 * expression runs.
 *
 * The worker evaluates `runSearch`'s own source (findMatches.ts is self-contained), so this works
 * the same under tsx and compiled builds, without a separate worker file to ship.
 */
export class SearchWorkers {
  readonly #idle: WarmWorker[] = [];
  #busy = 0;
  /** The running search of each owner: a newer one from the same owner stops it. */
  readonly #byOwner = new Map<string, () => void>();

  constructor(private readonly options: { maxWorkers: number; timeoutMs: number }) {
    this.#idle.push(this.#spawn());
  }

  run(owner: string, files: KeyedSearchFile[], query: SearchQuery, limits: SearchLimits, replacement: string | null): Promise<SearchOutcome> {
    this.#byOwner.get(owner)?.();
    if (this.#busy >= this.options.maxWorkers) {
      return Promise.reject(new AppError('RATE_LIMITED', 'The server is busy with other searches; try again in a moment.'));
    }
    const warm = this.#idle.pop() ?? this.#spawn();
    this.#busy++;
    return new Promise<SearchOutcome>((resolve, reject) => {
      let settled = false;
      const finish = (outcome: SearchOutcome | Error, keep: boolean): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        this.#busy--;
        warm.settle = null;
        if (this.#byOwner.get(owner) === supersede) this.#byOwner.delete(owner);
        if (keep) this.#idle.push(warm);
        else void warm.worker.terminate();
        if (outcome instanceof Error) reject(outcome);
        else resolve(outcome);
      };
      const supersede = (): void => finish(new AppError('CONFLICT', 'Replaced by a newer search.'), false);
      this.#byOwner.set(owner, supersede);
      const timer = setTimeout(() => finish(new AppError('BAD_INPUT', `The search took longer than ${this.options.timeoutMs / 1000} s and was stopped; try a simpler pattern or narrow it with "files to include".`), false), this.options.timeoutMs);
      warm.settle = (outcome) => finish(outcome, !(outcome instanceof Error));
      warm.worker.postMessage({ ...this.#message(warm, files), query, limits, replacement, literal: literalOf(query) });
    });
  }

  /**
   * Hands these files' texts to the worker the next search will take, if one is idle, ahead of
   * that search (an agent run starting on a project): the search then sends only paths.
   */
  prime(files: KeyedSearchFile[]): void {
    const warm = this.#idle.at(-1);
    if (warm) warm.worker.postMessage({ ...this.#message(warm, files.filter((f) => f.key !== undefined)), query: null });
  }

  /**
   * The files to send `warm`, as parallel lists (several times cheaper to pass to a thread than a
   * list of objects), and only the texts it does not hold. A search over the same files as the
   * worker's last one (an agent searching its project again) sends no list at all: the message is
   * a few numbers plus the changed texts, not thousands of paths.
   */
  #message(warm: WarmWorker, files: KeyedSearchFile[]): WireFiles {
    const clear = warm.chars > CACHE_CHARS;
    if (clear) {
      warm.sent.clear();
      warm.chars = 0;
    }
    const last = warm.list;
    let same = last !== null && last.paths.length === files.length;
    const paths: string[] = [];
    const keys: string[] = [];
    const changed: number[] = [];
    const texts: string[] = [];
    for (let i = 0; i < files.length; i++) {
      const f = files[i]!;
      const key = f.key ?? '';
      if (same && (last!.paths[i] !== f.path || last!.keys[i] !== key)) same = false;
      paths.push(f.path);
      keys.push(key);
      const held = f.key === undefined ? undefined : warm.sent.get(f.key);
      if (held === f.content) continue;
      changed.push(i);
      texts.push(f.content);
      if (f.key === undefined) continue;
      warm.sent.set(f.key, f.content);
      warm.chars += f.content.length - (held?.length ?? 0);
    }
    if (same) return { changed, texts, clear };
    warm.list = { paths, keys };
    return { paths, keys, changed, texts, clear };
  }

  #spawn(): WarmWorker {
    const worker = new Worker(WORKER_SOURCE, { eval: true, resourceLimits: { maxOldGenerationSizeMb: 256 } });
    const warm: WarmWorker = { worker, sent: new Map(), chars: 0, list: null, settle: null };
    const gone = (error: Error): void => {
      const at = this.#idle.indexOf(warm);
      if (at !== -1) this.#idle.splice(at, 1);
      warm.settle?.(error);
    };
    worker.on('message', (outcome: SearchOutcome) => warm.settle?.(outcome));
    worker.once('error', (e) => gone(new AppError('UNAVAILABLE', `The search failed: ${e.message}`)));
    worker.once('exit', () => gone(new AppError('UNAVAILABLE', 'The search stopped unexpectedly.')));
    // After the listeners (a 'message' listener refs the port again): a warm worker never keeps the process up.
    worker.unref();
    return warm;
  }
}

/** A plain run of characters every match contains, when the search is case-sensitive ('' otherwise). */
function literalOf(query: SearchQuery): string {
  if (!query.caseSensitive) return '';
  return query.regex ? requiredLiteral(query.pattern) : query.pattern;
}

// esbuild (tsx) may wrap nested functions in `__name(...)`; give the worker a no-op one.
const WORKER_SOURCE = `
const { parentPort } = require('node:worker_threads');
const __name = (f) => f;
const runSearch = ${runSearch.toString()};
const cache = new Map();
let paths = [];
let keys = [];
// The last list's files with their texts: a search with the same list patches the changed ones.
let files = [];
parentPort.on('message', (m) => {
  if (m.clear) cache.clear();
  if (m.paths) {
    paths = m.paths;
    keys = m.keys;
  }
  const sent = new Map();
  for (let j = 0; j < m.changed.length; j++) {
    const i = m.changed[j];
    sent.set(i, m.texts[j]);
    if (keys[i] !== '') cache.set(keys[i], m.texts[j]);
  }
  if (m.paths || m.clear) files = paths.map((path, i) => ({ path, content: sent.get(i) ?? cache.get(keys[i]) ?? '' }));
  else for (const [i, content] of sent) files[i] = { path: paths[i], content };
  if (m.query === null) return; // prime: texts only
  parentPort.postMessage(runSearch(files, m.query, m.limits, m.replacement, m.literal));
});
`;
