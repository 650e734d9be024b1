import { asBytes, type Prisma, type PrismaClient } from '@tandem/db';
import type { SuggestionStatus } from '@tandem/review';
import {
  OPEN_STATUSES, emptyMetrics, restoreHunks, storedHunks, type SuggestionRecord,
} from './SuggestionRecord.ts';

/**
 * Review event kinds, the record of who did what (ReviewEvent.kind). Per-hunk decisions carry
 * `hunkIndex`: `approved` is a vote that did not decide the hunk yet (n_approvals), `accepted`
 * and `rejected` decided it.
 */
export type ReviewEventKind =
  | 'requested' | 'completed' | 'failed' | 'cancelled' | 'stale' | 'conflict' | 'regenerated'
  | 'approved' | 'accepted' | 'rejected' | 'undone';

export interface NewReviewEvent {
  suggestionId: string;
  kind: ReviewEventKind;
  userId: string | null;
  hunkIndex?: number | null;
  detail?: Prisma.InputJsonValue;
}

/** Stored with `requested` and `regenerated`: what the attempt was computed for. */
export interface AttemptDetail {
  attempt: number;
  path: string;
  startLine: number;
  endLine: number;
  providerId: string;
  providerLabel: string;
  model: string;
}

type Row = Prisma.SuggestionGetPayload<{ include: { events: true } }>;

const OPEN = [...OPEN_STATUSES] as string[];
/** Events written together share a timestamp; hunk order breaks the tie. */
const EVENT_ORDER = [{ createdAt: 'asc' }, { hunkIndex: 'asc' }] satisfies Prisma.ReviewEventOrderByWithRelationInput[];

/** Suggestions and their review events in the database. Only this class writes them. */
export class SuggestionStore {
  constructor(private readonly prisma: PrismaClient) {}

  async create(record: SuggestionRecord): Promise<void> {
    await this.prisma.suggestion.create({
      data: {
        id: record.id,
        projectId: record.projectId,
        fileId: record.fileId,
        requesterId: record.requesterId,
        instruction: record.instruction,
        createdAt: record.createdAt,
        ...this.#mutable(record),
        events: { create: { userId: record.requesterId, kind: 'requested', detail: attemptDetail(record) as unknown as Prisma.InputJsonValue } },
      },
    });
  }

  /** Writes the mutable fields. A suggestion whose project was deleted meanwhile is skipped. */
  async save(record: SuggestionRecord): Promise<void> {
    await this.prisma.suggestion.updateMany({ where: { id: record.id }, data: this.#mutable(record) });
  }

  async addEvents(events: readonly NewReviewEvent[]): Promise<void> {
    if (events.length === 0) return;
    await this.prisma.reviewEvent.createMany({
      data: events.map((e) => ({ suggestionId: e.suggestionId, kind: e.kind, userId: e.userId, hunkIndex: e.hunkIndex ?? null, detail: e.detail })),
    });
  }

  /** Every suggestion that was open when the server last stopped, rebuilt; unreadable rows are reported, not thrown. */
  async loadOpen(onError: (id: string, error: unknown) => void, projectId?: string): Promise<SuggestionRecord[]> {
    const rows = await this.prisma.suggestion.findMany({
      where: { status: { in: OPEN }, ...(projectId === undefined ? {} : { projectId }) },
      include: { events: { orderBy: EVENT_ORDER } },
    });
    const records: SuggestionRecord[] = [];
    for (const row of rows) {
      try {
        records.push(recordFromRow(row));
      } catch (error) {
        onError(row.id, error);
      }
    }
    return records;
  }

  /** One suggestion of a project, rebuilt (null: none, or not in this project). */
  async find(projectId: string, id: string): Promise<SuggestionRecord | null> {
    const row = await this.prisma.suggestion.findFirst({ where: { id, projectId }, include: { events: { orderBy: EVENT_ORDER } } });
    return row ? recordFromRow(row) : null;
  }

  /** A project's suggestions, newest first, with their events (the AI activity record). */
  async activity(projectId: string, limit: number, before: Date | null) {
    const rows = await this.prisma.suggestion.findMany({
      where: { projectId, ...(before ? { createdAt: { lt: before } } : {}) },
      orderBy: { createdAt: 'desc' },
      take: limit,
      include: { events: { orderBy: EVENT_ORDER } },
    });
    return rows.map((row) => ({ record: recordFromRow(row), events: row.events }));
  }

  async userNames(ids: Iterable<string>): Promise<Map<string, string>> {
    const unique = [...new Set(ids)];
    if (unique.length === 0) return new Map();
    const users = await this.prisma.user.findMany({ where: { id: { in: unique } }, select: { id: true, name: true } });
    return new Map(users.map((u) => [u.id, u.name]));
  }

  #mutable(record: SuggestionRecord) {
    return {
      provider: record.providerId,
      model: record.model,
      status: record.state.status,
      anchorStart: asBytes(record.anchor.start),
      anchorEnd: asBytes(record.anchor.end),
      baseText: record.baseText,
      proposedText: record.proposed,
      hunks: storedHunks(record) as unknown as Prisma.InputJsonValue,
      error: record.state.error,
      ttftMs: record.metrics.ttftMs === null ? null : Math.round(record.metrics.ttftMs),
      tokens: record.metrics.tokens,
      tokensPerSec: record.metrics.tokensPerSecond,
    };
  }
}

export function attemptDetail(record: SuggestionRecord): AttemptDetail {
  return {
    attempt: record.state.attempt,
    path: record.path,
    startLine: record.startLine,
    endLine: record.endLine,
    providerId: record.providerId,
    providerLabel: record.providerLabel,
    model: record.model,
  };
}

function recordFromRow(row: Row): SuggestionRecord {
  const attempts = row.events.filter((e) => e.kind === 'requested' || e.kind === 'regenerated');
  const latest = (attempts.at(-1)?.detail ?? {}) as Partial<AttemptDetail>;
  const attempt = typeof latest.attempt === 'number' ? latest.attempt : Math.max(1, attempts.length);
  const restored = restoreHunks(row.baseText, row.hunks, row.status as SuggestionStatus, attempt, row.error);
  const undoneEvent = row.events.findLast((e) => e.kind === 'undone');
  return {
    id: row.id,
    projectId: row.projectId,
    fileId: row.fileId,
    requesterId: row.requesterId,
    instruction: row.instruction,
    createdAt: row.createdAt,
    updatedAt: row.updatedAt,
    path: typeof latest.path === 'string' ? latest.path : '',
    startLine: typeof latest.startLine === 'number' ? latest.startLine : 1,
    endLine: typeof latest.endLine === 'number' ? latest.endLine : 1,
    providerId: row.provider,
    providerLabel: typeof latest.providerLabel === 'string' ? latest.providerLabel : row.provider,
    model: row.model,
    state: restored.state,
    baseText: row.baseText,
    hunks: restored.hunks,
    anchored: restored.anchored,
    decidedAt: restored.decidedAt,
    anchor: { start: new Uint8Array(row.anchorStart), end: new Uint8Array(row.anchorEnd) },
    proposed: row.proposedText,
    metrics: { ...emptyMetrics(), ttftMs: row.ttftMs, tokens: row.tokens, tokensPerSecond: row.tokensPerSec },
    undone: undoneEvent?.userId ? { userId: undoneEvent.userId, at: undoneEvent.createdAt.toISOString() } : null,
  };
}
