import type { PrismaClient } from '@tandem/db';
import { parseDocName } from '@tandem/protocol';
import { decodeDeletions, deletionKey, encodeDeletions, type Author, type DeletionBatch, type DeletionSpan, type HistoryChanges, type Span, type StoredHistory } from '@tandem/history';

/**
 * `HistoryAuthor` / `HistorySpan` (inserts; deletions stored before batches) / `HistoryDeletion`
 * rows of one document, to and from @tandem/history's model.
 */
export class HistoryStore {
  constructor(private readonly prisma: PrismaClient) {}

  async load(documentName: string): Promise<StoredHistory> {
    const [authors, spans, batches] = await Promise.all([
      this.prisma.historyAuthor.findMany({ where: { documentName } }),
      this.prisma.historySpan.findMany({ where: { documentName } }),
      this.prisma.historyDeletion.findMany({ where: { documentName } }),
    ]);
    const inserts: Span[] = [];
    const deletions: (DeletionBatch | DeletionSpan)[] = [];
    for (const s of spans) {
      const span = { client: Number(s.clientId), from: s.clockFrom, to: s.clockTo, at: s.at.getTime() };
      if (s.kind === 'insert') inserts.push(span);
      else deletions.push({ ...span, by: deleterOf(s), text: '\0'.repeat(span.to - span.from) });
    }
    for (const b of batches) {
      const by = deleterOf(b);
      deletions.push({ by, at: b.at.getTime(), spans: decodeDeletions(b.data, b.at.getTime(), by) });
    }
    return { authors: authors.map((a) => ({ client: Number(a.clientId), author: authorOfRow(a) })), inserts, deletions };
  }

  /** Writes what changed; spans are upserted by (document, kind, client, key): a span that grew is rewritten. */
  async save(documentName: string, changes: HistoryChanges): Promise<void> {
    const projectId = parseDocName(documentName)?.projectId;
    if (!projectId) return;
    const { authors, inserts, deletions } = changes;
    if (authors.length === 0 && inserts.length === 0 && deletions.length === 0) return;
    await this.prisma.$transaction([
      ...(authors.length > 0
        ? [this.prisma.historyAuthor.createMany({ data: authors.map(({ client, author }) => ({ documentName, projectId, clientId: BigInt(client), ...authorRow(author) })), skipDuplicates: true })]
        : []),
      ...inserts.map((s) => {
        const key = { documentName, kind: 'insert', clientId: BigInt(s.client), clockKey: s.from };
        return this.prisma.historySpan.upsert({
          where: { documentName_kind_clientId_clockKey: key }, create: { ...key, projectId, clockFrom: s.from, clockTo: s.to, at: new Date(s.at) }, update: { clockTo: s.to },
        });
      }),
      ...deletions.map((b) => {
        const key = { documentName, key: deletionKey(b) };
        const data = encodeDeletions(b.spans);
        return this.prisma.historyDeletion.upsert({
          where: { documentName_key: key },
          create: {
            ...key, projectId, at: new Date(b.at), data,
            byUserId: 'userId' in b.by ? b.by.userId : null, byClientId: 'client' in b.by ? BigInt(b.by.client) : null,
          },
          update: { data },
        });
      }),
    ]);
  }
}

export interface AuthorRow {
  kind: string;
  userId: string | null;
  model: string | null;
  provider: string | null;
  requestedBy: string | null;
  approvedBy: string | null;
  suggestionId: string | null;
  agentRunId: string | null;
  source: string | null;
}

function authorRow(author: Author): AuthorRow {
  const none = { userId: null, model: null, provider: null, requestedBy: null, approvedBy: null, suggestionId: null, agentRunId: null, source: null };
  if (author.kind === 'person') return { ...none, kind: 'person', userId: author.userId };
  if (author.kind === 'system') return { ...none, kind: 'system', source: author.source ?? null };
  return {
    ...none, kind: 'ai', model: author.model, provider: author.provider, requestedBy: author.requestedBy, approvedBy: author.approvedBy,
    suggestionId: author.suggestionId ?? null, agentRunId: author.agentRunId ?? null,
  };
}

function deleterOf(row: { byUserId: string | null; byClientId: bigint | null }): DeletionSpan['by'] {
  return row.byUserId !== null ? { userId: row.byUserId } : { client: Number(row.byClientId) };
}

export function authorOfRow(row: AuthorRow): Author {
  if (row.kind === 'person' && row.userId !== null) return { kind: 'person', userId: row.userId };
  if (row.kind === 'ai') {
    return {
      kind: 'ai', model: row.model ?? '', provider: row.provider ?? '', requestedBy: row.requestedBy, approvedBy: row.approvedBy,
      ...(row.suggestionId !== null ? { suggestionId: row.suggestionId } : {}),
      ...(row.agentRunId !== null ? { agentRunId: row.agentRunId } : {}),
    };
  }
  return { kind: 'system', ...(row.source !== null ? { source: row.source } : {}) };
}
