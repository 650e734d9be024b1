import { AppError, FILE_TEXT, TREE_MAP, fileDocName, parseDocName, treeDocName, type TreeEntry } from '@tandem/protocol';
import type { PrismaClient } from '@tandem/db';
import { computeHunks } from '@tandem/review';
import { FileTimeline, SESSION_GAP_MS, type Author, type DocumentHistory } from '@tandem/history';
import { authorViews, type AuthorView } from './authorViews.ts';
import type { HistoryDocuments } from './HistoryService.ts';
import { lineAt } from './CheckpointService.ts';

export const TIME_TRAVEL_LIMITS = {
  /** Newest sessions and steps a timeline lists. */
  sessions: 500,
  steps: 5000,
  /** Characters of a version returned (a longer one is cut). */
  versionChars: 1_000_000,
  diffHunks: 200,
  /** Timelines kept (per document, while it does not change). */
  cached: 8,
  /** Newest history rows a project's sessions are built from. */
  projectRows: 20_000,
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

export interface ProjectSessionView { start: number; end: number; files: { fileId: string; path: string | null }[]; authors: AuthorView[] }

/**
 * Time travel over a file's history (README → packages/history): the steps of its edits grouped
 * into sessions, its text at any time and the diff between two times. Read-only and computed on
 * this server from the live document and its DocumentHistory (no transaction, nothing stored or
 * broadcast), so nobody editing is disturbed; a timeline is built once per change of the
 * document (cached) and viewing a point only concatenates its pieces.
 */
export class TimeTravel {
  readonly #cache = new Map<string, { revision: number; timeline: FileTimeline }>();

  constructor(
    private readonly prisma: PrismaClient,
    private readonly documents: HistoryDocuments,
    private readonly historyOf: (documentName: string) => DocumentHistory | undefined,
    private readonly isFile: (projectId: string, fileId: string) => Promise<boolean>,
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
  async projectSessions(projectId: string): Promise<ProjectSessionView[]> {
    const take = TIME_TRAVEL_LIMITS.projectRows;
    const [inserts, deletions] = await Promise.all([
      this.prisma.historySpan.findMany({ where: { projectId, kind: 'insert' }, orderBy: { at: 'desc' }, take, select: { documentName: true, clientId: true, at: true } }),
      this.prisma.historyDeletion.findMany({ where: { projectId }, orderBy: { at: 'desc' }, take, select: { documentName: true, byUserId: true, at: true } }),
    ]);
    const authorRows = await this.prisma.historyAuthor.findMany({
      where: { projectId }, orderBy: { createdAt: 'desc' }, take,
      select: { documentName: true, clientId: true, kind: true, userId: true, model: true, provider: true, requestedBy: true, approvedBy: true },
    });
    const authorOf = new Map(authorRows.map((a) => [`${a.documentName}:${a.clientId}`, a.kind === 'person' && a.userId ? { kind: 'person', userId: a.userId } as Author
      : a.kind === 'ai' ? { kind: 'ai', model: a.model ?? '', provider: a.provider ?? '', requestedBy: a.requestedBy, approvedBy: a.approvedBy } as Author : { kind: 'system' } as Author]));
    const events = [
      ...inserts.map((r) => ({ documentName: r.documentName, at: r.at.getTime(), author: authorOf.get(`${r.documentName}:${r.clientId}`) ?? null })),
      ...deletions.map((r) => ({ documentName: r.documentName, at: r.at.getTime(), author: r.byUserId ? { kind: 'person', userId: r.byUserId } as Author : null })),
    ].sort((a, b) => a.at - b.at);
    const sessions: { start: number; end: number; files: Set<string>; authors: Map<string, Author> }[] = [];
    for (const e of events) {
      let last = sessions[sessions.length - 1];
      if (!last || e.at - last.end > SESSION_GAP_MS) sessions.push((last = { start: e.at, end: e.at, files: new Set(), authors: new Map() }));
      last.end = e.at;
      const ref = parseDocName(e.documentName);
      if (ref?.kind === 'file') last.files.add(ref.fileId);
      if (e.author) last.authors.set(JSON.stringify(e.author), e.author);
    }
    const tree = await this.documents.readDocument(treeDocName(projectId), (doc) => new Map(doc.getMap<TreeEntry>(TREE_MAP).entries()));
    const kept = sessions.slice(-TIME_TRAVEL_LIMITS.sessions);
    const view = await authorViews(this.prisma, kept.flatMap((s) => [...s.authors.values()]));
    return kept.map((s) => ({
      start: s.start, end: s.end, authors: [...s.authors.values()].map(view),
      files: [...s.files].map((fileId) => ({ fileId, path: tree.get(fileId)?.path ?? null })),
    }));
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
