import type { Author } from './authors.ts';
import { SESSION_GAP_MS, type FileTimeline } from './timeline.ts';

/**
 * Changes of the same authors within this time of a step's first change are one project step:
 * a burst (an agent run or a restore touching many files, a person typing and deleting).
 */
export const PROJECT_BURST_MS = 5_000;

/** What one file's history holds for one time: a FileTimeline step, or one stored history row. */
export interface FileChange {
  file: string;
  at: number;
  inserted: number;
  deleted: number;
  authors: readonly Author[];
}

export interface ProjectStepFile {
  file: string;
  inserted: number;
  deleted: number;
  authors: Author[];
}

/** One point of the project slider: a burst of changes by the same authors, in one or more files. */
export interface ProjectStep {
  /** Its last change's time: every file viewed at `at` (FileTimeline.textAt) includes the step. */
  at: number;
  start: number;
  files: ProjectStepFile[];
  authors: Author[];
}

export interface ProjectSession {
  /** Steps [fromStep, toStep] (indexes into `steps`). */
  fromStep: number;
  toStep: number;
  start: number;
  end: number;
  authors: Author[];
  /** Files changed in the session, in the order they first changed. */
  files: string[];
}

/** Author keys, computed once per author object (callers that share objects per author pay once). */
const keys = new WeakMap<Author, string>();
function keyOf(author: Author): string {
  let key = keys.get(author);
  if (key === undefined) keys.set(author, (key = JSON.stringify(author)));
  return key;
}
const authorsKey = (authors: readonly Author[]) => (authors.length === 1 ? keyOf(authors[0]!) : authors.map(keyOf).sort().join('\n'));

function addAuthors(into: Author[], authors: readonly Author[]): void {
  for (const a of authors) if (!into.some((b) => keyOf(b) === keyOf(a))) into.push(a);
}

/**
 * A project's past across its files: every file's changes in time order, grouped into steps
 * (bursts of PROJECT_BURST_MS by the same authors; which files, how much, who) and sessions
 * (a pause over SESSION_GAP_MS starts one). Built from file changes only: viewing a file at a
 * step is its FileTimeline's `textAt(step.at)`. Pure and read-only.
 */
export class ProjectTimeline {
  private constructor(readonly steps: ProjectStep[], readonly sessions: ProjectSession[]) {}

  static build(changes: Iterable<FileChange>): ProjectTimeline {
    const work = ProjectTimeline.building(changes);
    for (let next = work.next(); ; next = work.next()) if (next.done) return next.value;
  }

  /**
   * `build` in slices: the generator yields after every ~CHUNK changes (or elements merged) of
   * work, so a caller can pause between slices (let other work of its event loop run) and resume
   * with `next()`; its return value is what `build` returns. No clock here: the caller decides
   * when to pause.
   */
  static *building(changes: Iterable<FileChange>): Generator<void, ProjectTimeline, void> {
    const kept: FileChange[] = [];
    let read = 0;
    for (const c of changes) {
      if (c.inserted > 0 || c.deleted > 0) kept.push(c);
      if (++read % CHUNK === 0) yield;
    }
    const sorted = yield* sortedByTime(kept);
    const steps: ProjectStep[] = [];
    let key = '';
    /** The current step's files, by file. */
    let files = new Map<string, ProjectStepFile>();
    for (let i = 0; i < sorted.length; i++) {
      if (i % CHUNK === CHUNK - 1) yield;
      const change = sorted[i]!;
      const changeKey = authorsKey(change.authors);
      let step = steps[steps.length - 1];
      if (!step || changeKey !== key || change.at - step.start > PROJECT_BURST_MS) {
        steps.push((step = { at: change.at, start: change.at, files: [], authors: [...change.authors] }));
        key = changeKey;
        files = new Map();
      }
      step.at = change.at;
      let file = files.get(change.file);
      if (!file) {
        step.files.push((file = { file: change.file, inserted: 0, deleted: 0, authors: [] }));
        files.set(change.file, file);
      }
      file.inserted += change.inserted;
      file.deleted += change.deleted;
      addAuthors(file.authors, change.authors);
    }
    return new ProjectTimeline(steps, yield* sessionsOf(steps));
  }

  /** From files' timelines (file id → its FileTimeline). */
  static fromFiles(files: ReadonlyMap<string, FileTimeline>): ProjectTimeline {
    const changes: FileChange[] = [];
    for (const [file, timeline] of files) for (const s of timeline.steps) changes.push({ file, ...s });
    return ProjectTimeline.build(changes);
  }

  /** Index of the last step at or before `at` (-1: before the first). */
  stepAt(at: number): number {
    let lo = 0;
    let hi = this.steps.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (this.steps[mid]!.at <= at) lo = mid + 1;
      else hi = mid - 1;
    }
    return hi;
  }
}

/** Items of work between two yields of `ProjectTimeline.building`. */
const CHUNK = 512;

const byTime = (a: FileChange, b: FileChange) => a.at - b.at || (a.file < b.file ? -1 : a.file > b.file ? 1 : 0);

/**
 * The changes sorted by time, then file, stably (as `Array.prototype.sort` would): sorted runs of
 * CHUNK, then merged pairwise, yielding between chunks of work.
 */
function* sortedByTime(changes: FileChange[]): Generator<void, FileChange[], void> {
  let from = changes;
  for (let i = 0; i < from.length; i += CHUNK) {
    const run = from.slice(i, i + CHUNK).sort(byTime);
    for (let j = 0; j < run.length; j++) from[i + j] = run[j]!;
    yield;
  }
  let to = new Array<FileChange>(from.length);
  for (let width = CHUNK; width < from.length; width *= 2) {
    let done = 0;
    for (let lo = 0; lo < from.length; lo += 2 * width) {
      const mid = Math.min(lo + width, from.length);
      const hi = Math.min(lo + 2 * width, from.length);
      let a = lo;
      let b = mid;
      for (let k = lo; k < hi; k++) {
        // Ties keep the earlier run's change first: stable.
        to[k] = a < mid && (b >= hi || byTime(from[a]!, from[b]!) <= 0) ? from[a++]! : from[b++]!;
        if (++done % CHUNK === 0) yield;
      }
    }
    [from, to] = [to, from];
  }
  return from;
}

function* sessionsOf(steps: readonly ProjectStep[]): Generator<void, ProjectSession[], void> {
  const sessions: ProjectSession[] = [];
  let files = new Set<string>();
  let authors = new Set<string>();
  for (let i = 0; i < steps.length; i++) {
    if (i % CHUNK === CHUNK - 1) yield;
    const step = steps[i]!;
    let last = sessions[sessions.length - 1];
    if (!last || step.start - last.end > SESSION_GAP_MS) {
      sessions.push((last = { fromStep: i, toStep: i, start: step.start, end: step.at, authors: [], files: [] }));
      files = new Set();
      authors = new Set();
    }
    last.toStep = i;
    last.end = step.at;
    for (const a of step.authors) {
      const key = keyOf(a);
      if (authors.has(key)) continue;
      authors.add(key);
      last.authors.push(a);
    }
    for (const f of step.files) {
      if (files.has(f.file)) continue;
      files.add(f.file);
      last.files.push(f.file);
    }
  }
  return sessions;
}
