import { AppError, FILE_TEXT, TREE_MAP, fileDocName, treeDocName, type TreeEntry } from '@tandem/protocol';
import type { PrismaClient } from '@tandem/db';
import { computeHunks } from '@tandem/review';
import { FileTimeline, ProjectTimeline, type Author, type DocumentHistory } from '@tandem/history';
import { authorViews, type AuthorView } from './authorViews.ts';
import type { HistoryDocuments } from './HistoryService.ts';
import { lineAt } from './CheckpointService.ts';
import { projectChanges } from './projectChanges.ts';
import { runSliced } from './slices.ts';

export const TIME_TRAVEL_LIMITS = {
  /** Newest sessions and steps a timeline lists. */
  sessions: 500,
  steps: 5000,
  /** Characters of a version returned (a longer one is cut). */
  versionChars: 1_000_000,
  diffHunks: 200,
  /** Timelines kept (per document, while it does not change). */
  cached: 8,
  /** Newest history rows (of each kind) a project's sessions, or one session's steps, are built from. */
  projectRows: 20_000,
  /** Newest steps of a project timeline listed, and files listed per step or session. */
  projectSteps: 2000,
  stepFiles: 25,
  /** Project timelines built at once on this server (more: RATE_LIMITED; the same one asked twice is shared). */
  projectBuilds: 4,
} as const;

export interface StepView { at: number; inserted: number; deleted: number; authors: AuthorView[] }
export interface SessionView { start: number; end: number; fromStep: number; toStep: number; authors: AuthorView[] }

export interface FileTimelineView {
  /** Steps in time order; `firstStep` is the index of the first one listed (older ones are left out). */
  steps: StepView[];
  firstStep: number;
  /** Sessions (pauses over SESSION_GAP_MS split them), newest last, with absolute step indexes. */
  sessions: SessionView[];
  truncated: boolean;
}

export interface VersionView {
  at: number;
  text: string;
  truncated: boolean;
  /** Who made the step at `at` (empty between steps). */
  authors: AuthorView[];
  /** From this version to `compareTo` (another time) or to now. */
  hunks: { line: number; removed: string; inserted: string }[];
  hunksTruncated: boolean;
}

export interface ProjectFileRef { fileId: string; path: string | null }
export interface ProjectSessionView {
  start: number;
  end: number;
  steps: number;
  /** The first TIME_TRAVEL_LIMITS.stepFiles files changed (`moreFiles`: how many more). */
  files: ProjectFileRef[];
  moreFiles: number;
  authors: AuthorView[];
}

export interface ProjectStepView {
  start: number;
  /** View files at this time (the step's last change). */
  at: number;
  /** Indexes into ProjectTimelineView.authors. */
  authors: number[];
  files: (ProjectFileRef & { inserted: number; deleted: number; authors: number[] })[];
  moreFiles: number;
}

export interface ProjectTimelineView {
  /** Every author the steps name, once. */
  authors: AuthorView[];
  /** The project's changes between two times, as steps in time order (the newest TIME_TRAVEL_LIMITS.projectSteps). */
  steps: ProjectStepView[];
  truncated: boolean;
}

/**
 * Time travel over a file's history (README → packages/history): the steps of its edits grouped
 * into sessions, its text at any time and the diff between two times. Read-only and computed on
 * this server from the live document and its DocumentHistory (no transaction, nothing stored or
 * broadcast), so nobody editing is disturbed; a timeline is built once per change of the
 * document (cached) and viewing a point only concatenates its pieces.
 */
export class TimeTravel {
  readonly #cache = new Map<string, { revision: number; timeline: FileTimeline }>();
  /** Project-wide builds running, by what they build. */
  readonly #builds = new Map<string, Promise<unknown>>();
  readonly #buildsBy = new Set<string>();

  constructor(
    private readonly prisma: PrismaClient,
    private readonly documents: HistoryDocuments,
    private readonly historyOf: (documentName: string) => DocumentHistory | undefined,
    private readonly isFile: (projectId: string, fileId: string) => Promise<boolean>,
    /** Stores the project's pending history rows (so the newest seconds are replayed too). */
    private readonly flush: (projectId: string) => Promise<void> = async () => {},
  ) {}

  async timeline(projectId: string, fileId: string): Promise<FileTimelineView> {
    const timeline = await this.#timeline(projectId, fileId);
    const firstStep = Math.max(0, timeline.steps.length - TIME_TRAVEL_LIMITS.steps);
    const steps = timeline.steps.slice(firstStep);
    const sessions = timeline.sessions.filter((s) => s.toStep >= firstStep).slice(-TIME_TRAVEL_LIMITS.sessions);
    const view = await authorViews(this.prisma, [...steps.flatMap((s) => s.authors), ...sessions.flatMap((s) => s.authors)]);
    return {
      firstStep,
      steps: steps.map((s) => ({ at: s.at, inserted: s.inserted, deleted: s.deleted, authors: s.authors.map(view) })),
      sessions: sessions.map((s) => ({ start: s.start, end: s.end, fromStep: Math.max(s.fromStep, firstStep), toStep: s.toStep, authors: s.authors.map(view) })),
      truncated: firstStep > 0 || sessions.length < timeline.sessions.length,
    };
  }

  /** The file at time `at`, diffed against `compareTo` (a time) or now. */
  async version(projectId: string, fileId: string, at: number, compareTo: number | null): Promise<VersionView> {
    const timeline = await this.#timeline(projectId, fileId);
    const full = timeline.textAt(at);
    const other = compareTo === null ? timeline.textAt(Infinity) : timeline.textAt(compareTo);
    const step = timeline.steps.find((s) => s.at === at);
    const view = await authorViews(this.prisma, step?.authors ?? []);
    const hunks = computeHunks(full, other);
    return {
      at, text: full.slice(0, TIME_TRAVEL_LIMITS.versionChars), truncated: full.length > TIME_TRAVEL_LIMITS.versionChars,
      authors: (step?.authors ?? []).map(view),
      hunks: hunks.slice(0, TIME_TRAVEL_LIMITS.diffHunks).map((h) => ({ line: lineAt(full, h.start), removed: h.removed, inserted: h.inserted })),
      hunksTruncated: hunks.length > TIME_TRAVEL_LIMITS.diffHunks,
    };
  }

  /** The project's sessions (newest last): when, which files, who; from the newest stored history rows. */
  async projectSessions(projectId: string, userId: string): Promise<ProjectSessionView[]> {
    return this.#bounded(`sessions:${projectId}`, userId, async () => {
      await this.flush(projectId);
      const { changes } = await projectChanges(this.prisma, projectId, { from: 0, to: 8.64e15 }, TIME_TRAVEL_LIMITS.projectRows);
      const timeline = await runSliced(ProjectTimeline.building(changes));
      const kept = timeline.sessions.slice(-TIME_TRAVEL_LIMITS.sessions);
      const [paths, view] = await Promise.all([this.#paths(projectId), authorViews(this.prisma, kept.flatMap((s) => s.authors))]);
      return kept.map((s) => ({
        start: s.start, end: s.end, steps: s.toStep - s.fromStep + 1, authors: s.authors.map(view),
        files: s.files.slice(0, TIME_TRAVEL_LIMITS.stepFiles).map((fileId) => ({ fileId, path: paths.get(fileId) ?? null })),
        moreFiles: Math.max(0, s.files.length - TIME_TRAVEL_LIMITS.stepFiles),
      }));
    });
  }

  /**
   * The project's changes between `from` and `to` (a session) as steps across files: which files
   * changed at each, how much, by whom. View a file at a step with `version(…, step.at, …)`.
   */
  async projectTimeline(projectId: string, from: number, to: number, userId: string): Promise<ProjectTimelineView> {
    return this.#bounded(`timeline:${projectId}:${from}:${to}`, userId, async () => {
      await this.flush(projectId);
      const { changes, truncated } = await projectChanges(this.prisma, projectId, { from, to }, TIME_TRAVEL_LIMITS.projectRows);
      const { steps } = await runSliced(ProjectTimeline.building(changes));
      const kept = steps.slice(-TIME_TRAVEL_LIMITS.projectSteps);
      const authors = new Map<string, { index: number; author: Author }>();
      const indexOf = (a: Author) => {
        const key = JSON.stringify(a);
        let entry = authors.get(key);
        if (!entry) authors.set(key, (entry = { index: authors.size, author: a }));
        return entry.index;
      };
      const paths = await this.#paths(projectId);
      const views = await runSliced((function* viewsOf() {
        const views: ProjectStepView[] = [];
        for (const s of kept) {
          if (views.length % 64 === 63) yield;
          views.push({
            start: s.start, at: s.at, authors: s.authors.map(indexOf), moreFiles: Math.max(0, s.files.length - TIME_TRAVEL_LIMITS.stepFiles),
            files: s.files.slice(0, TIME_TRAVEL_LIMITS.stepFiles).map((f) => ({
              fileId: f.file, path: paths.get(f.file) ?? null, inserted: f.inserted, deleted: f.deleted, authors: f.authors.map(indexOf),
            })),
          });
        }
        return views;
      })());
      const list = [...authors.values()].map((e) => e.author);
      const view = await authorViews(this.prisma, list);
      return { authors: list.map(view), steps: views, truncated: truncated || kept.length < steps.length };
    });
  }

  /** Current paths of the project's files, by id. */
  #paths(projectId: string): Promise<Map<string, string>> {
    return this.documents.readDocument(treeDocName(projectId), (doc) => {
      const paths = new Map<string, string>();
      for (const [id, entry] of doc.getMap<TreeEntry>(TREE_MAP).entries()) if (entry.kind === 'file') paths.set(id, entry.path);
      return paths;
    });
  }

  /**
   * Runs a project-wide build, sharing one already running for the same key; one at a time per
   * person and at most TIME_TRAVEL_LIMITS.projectBuilds at once (each reads up to 40,000 rows and
   * groups them in slices of a few ms, see runSliced: it takes CPU time, not the event loop).
   */
  #bounded<T>(key: string, userId: string, build: () => Promise<T>): Promise<T> {
    const running = this.#builds.get(key);
    if (running) return running as Promise<T>;
    if (this.#buildsBy.has(userId)) throw new AppError('RATE_LIMITED', 'Your previous history replay is still loading; try again in a moment.');
    if (this.#builds.size >= TIME_TRAVEL_LIMITS.projectBuilds) throw new AppError('RATE_LIMITED', 'The server is busy replaying project histories; try again in a moment.');
    this.#buildsBy.add(userId);
    const promise = build().finally(() => {
      this.#builds.delete(key);
      this.#buildsBy.delete(userId);
    });
    this.#builds.set(key, promise);
    return promise;
  }

  async #timeline(projectId: string, fileId: string): Promise<FileTimeline> {
    if (!(await this.isFile(projectId, fileId))) throw new AppError('NOT_FOUND', 'That file is not in this project.');
    const documentName = fileDocName(projectId, fileId);
    return this.documents.readDocument(documentName, (doc) => {
      const history = this.historyOf(documentName);
      if (!history) throw new AppError('UNAVAILABLE', 'The file\'s history is not loaded.');
      const cached = this.#cache.get(documentName);
      if (cached && cached.revision === history.revision) return cached.timeline;
      const timeline = FileTimeline.build(doc.getText(FILE_TEXT), history);
      this.#cache.delete(documentName);
      this.#cache.set(documentName, { revision: history.revision, timeline });
      for (const key of this.#cache.keys()) {
        if (this.#cache.size <= TIME_TRAVEL_LIMITS.cached) break;
        this.#cache.delete(key);
      }
      return timeline;
    });
  }
}
