import type { PrismaClient } from '@tandem/db';
import { parseDocName } from '@tandem/protocol';
import { deletedCount, type Author, type FileChange } from '@tandem/history';
import { authorOfRow, type AuthorRow } from './HistoryStore.ts';
import { runSliced } from './slices.ts';

/** A HistoryAuthor row's columns, joined (`kind` null: no author row, as FileTimeline: the system's). */
type AuthorColumns = Omit<AuthorRow, 'kind'> & { kind: string | null };
function authorOf(row: AuthorColumns, interned: Map<string, Author>): Author {
  const key = `${row.kind}\0${row.userId}\0${row.model}\0${row.provider}\0${row.requestedBy}\0${row.approvedBy}\0${row.suggestionId}\0${row.agentRunId}\0${row.source}`;
  let author = interned.get(key);
  if (!author) interned.set(key, (author = row.kind === null ? { kind: 'system' } : authorOfRow({ ...row, kind: row.kind })));
  return author;
}

interface SpanRow extends AuthorColumns { documentName: string; at: Date; spanKind: string; clientId: bigint; clockKey: number; chars: number; byUserId: string | null }
interface DeletionRow extends AuthorColumns { documentName: string; at: Date; key: string; byUserId: string | null; head: Uint8Array }

/** Rows read per query. */
const PAGE_ROWS = 1000;
/** The latest time a Date holds. */
const MAX_TIME = 8.64e15;

/**
 * Up to `take` rows, newest first, read a page at a time: `page(after, limit)` reads the rows
 * ordered after `after` (the last row read; before the first page, a row after every one up to `to`).
 */
async function pages<R extends { at: Date }>(take: number, to: number, page: (after: R, limit: number) => Promise<R[]>): Promise<R[]> {
  const rows: R[] = [];
  // Before the first page: later than `to`, so every row up to `to` is ordered after it.
  let after = { at: new Date(Math.min(to + 1, MAX_TIME)), documentName: '', spanKind: '', clientId: 0n, clockKey: 0, key: '' } as unknown as R;
  while (rows.length < take) {
    const limit = Math.min(PAGE_ROWS, take - rows.length);
    const got = await page(after, limit);
    for (const row of got) rows.push(row);
    if (got.length < limit) break;
    after = got[got.length - 1]!;
  }
  return rows;
}

/** Bytes of a deletion batch read to count its characters (its span list; never its text). */
const DELETION_HEAD_BYTES = 1024;
/** Rows turned into changes between two chances to pause (see runSliced). */
const ROWS_PER_YIELD = 256;

export interface ProjectChanges {
  changes: FileChange[];
  /** Rows were left out (older than the newest `take`). */
  truncated: boolean;
}

/**
 * A project's file changes between two times, newest `take` stored history rows of each kind
 * (insert spans, deletion batches), each with its author joined in the database: one row, one
 * FileChange (file = file id). Deletion batches are counted from their span lists only.
 */
export async function projectChanges(prisma: PrismaClient, projectId: string, range: { from: number; to: number }, take: number): Promise<ProjectChanges> {
  const from = new Date(range.from);
  const to = new Date(range.to);
  // Read in pages of PAGE_ROWS, newest first (each page's rows are decoded on this thread at once:
  // small pages keep that short), resuming after the last row read (its time and key).
  const [spans, deletions] = await Promise.all([
    pages<SpanRow>(take + 1, range.to, (after, limit) => prisma.$queryRaw<SpanRow[]>`
      SELECT s."documentName", s."at", s."kind" AS "spanKind", s."clientId", s."clockKey", s."clockTo" - s."clockFrom" AS "chars", s."byUserId",
        a."kind", a."userId", a."model", a."provider", a."requestedBy", a."approvedBy", a."suggestionId", a."agentRunId", a."source"
      FROM "HistorySpan" s
      LEFT JOIN "HistoryAuthor" a ON a."documentName" = s."documentName"
        AND a."clientId" = CASE WHEN s."kind" = 'insert' THEN s."clientId" ELSE s."byClientId" END
      WHERE s."projectId" = ${projectId} AND s."at" >= ${from} AND s."at" <= ${to} AND s."at" <= ${after.at}
        AND (s."at", s."documentName", s."kind", s."clientId", s."clockKey") < (${after.at}, ${after.documentName}, ${after.spanKind}, ${after.clientId}, ${after.clockKey})
      ORDER BY s."at" DESC, s."documentName" DESC, s."kind" DESC, s."clientId" DESC, s."clockKey" DESC LIMIT ${limit}`),
    pages<DeletionRow>(take + 1, range.to, (after, limit) => prisma.$queryRaw<DeletionRow[]>`
      SELECT d."documentName", d."at", d."key", d."byUserId", substring(d."data" from 1 for ${DELETION_HEAD_BYTES}) AS "head",
        a."kind", a."userId", a."model", a."provider", a."requestedBy", a."approvedBy", a."suggestionId", a."agentRunId", a."source"
      FROM "HistoryDeletion" d
      LEFT JOIN "HistoryAuthor" a ON a."documentName" = d."documentName" AND a."clientId" = d."byClientId"
      WHERE d."projectId" = ${projectId} AND d."at" >= ${from} AND d."at" <= ${to} AND d."at" <= ${after.at}
        AND (d."at", d."documentName", d."key") < (${after.at}, ${after.documentName}, ${after.key})
      ORDER BY d."at" DESC, d."documentName" DESC, d."key" DESC LIMIT ${limit}`),
  ]);
  // Rows become changes in slices (deletion heads are decoded): a large replay does not hold up the event loop.
  return runSliced(changesOf(spans, deletions, take));
}

function* changesOf(spans: SpanRow[], deletions: DeletionRow[], take: number): Generator<void, ProjectChanges, void> {
  const changes: FileChange[] = [];
  /** One object per author (the timeline keys authors per object). */
  const interned = new Map<string, Author>();
  const person = (userId: string) => authorOf({ kind: 'person', userId, model: null, provider: null, requestedBy: null, approvedBy: null, suggestionId: null, agentRunId: null, source: null }, interned);
  const add = (documentName: string, at: Date, inserted: number, deleted: number, author: Author) => {
    const ref = parseDocName(documentName);
    if (ref?.kind === 'file') changes.push({ file: ref.fileId, at: at.getTime(), inserted, deleted, authors: [author] });
  };
  // The oldest kept time: rows of the other kind older than it are left out too (both cover the same span of time).
  const cut = Math.max(spans.length > take ? spans[take - 1]!.at.getTime() : -Infinity, deletions.length > take ? deletions[take - 1]!.at.getTime() : -Infinity);
  let rows = 0;
  for (const s of spans.slice(0, take)) {
    if (++rows % ROWS_PER_YIELD === 0) yield;
    if (s.at.getTime() < cut) continue;
    if (s.spanKind === 'insert') add(s.documentName, s.at, Number(s.chars), 0, authorOf(s, interned));
    else add(s.documentName, s.at, 0, Math.max(1, Number(s.chars)), s.byUserId !== null ? person(s.byUserId) : authorOf(s, interned));
  }
  for (const d of deletions.slice(0, take)) {
    if (++rows % ROWS_PER_YIELD === 0) yield;
    if (d.at.getTime() < cut) continue;
    add(d.documentName, d.at, 0, Math.max(1, deletedCount(d.head).chars), d.byUserId !== null ? person(d.byUserId) : authorOf(d, interned));
  }
  return { changes, truncated: cut > -Infinity };
}
