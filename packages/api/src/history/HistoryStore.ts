import type { PrismaClient } from '@tandem/db';
import { parseDocName } from '@tandem/protocol';
import type { Author, DeletionSpan, HistoryChanges, Span, StoredHistory } from '@tandem/history';

/** `HistoryAuthor` / `HistorySpan` rows of one document, to and from @tandem/history's model. */
export class HistoryStore {
  constructor(private readonly prisma: PrismaClient) {}

  async load(documentName: string): Promise<StoredHistory> {
    const [authors, spans] = await Promise.all([
      this.prisma.historyAuthor.findMany({ where: { documentName } }),
      this.prisma.historySpan.findMany({ where: { documentName } }),
    ]);
    const inserts: Span[] = [];
    const deletions: DeletionSpan[] = [];
    for (const s of spans) {
      const span = { client: Number(s.clientId), from: s.clockFrom, to: s.clockTo, at: s.at.getTime() };
      if (s.kind === 'insert') inserts.push(span);
      else deletions.push({ ...span, key: s.clockKey, by: s.byUserId !== null ? { userId: s.byUserId } : { client: Number(s.byClientId) } });
    }
    return { authors: authors.map((a) => ({ client: Number(a.clientId), author: authorOf(a) })), inserts, deletions };
  }

  /** Writes what changed; spans are upserted by (document, kind, client, key): a span that grew is rewritten. */
  async save(documentName: string, changes: HistoryChanges): Promise<void> {
    const projectId = parseDocName(documentName)?.projectId;
    if (!projectId) return;
    const { authors, inserts, deletions } = changes;
    if (authors.length === 0 && inserts.length === 0 && deletions.length === 0) return;
    const spanRow = (kind: 'insert' | 'delete', s: Span) => ({ documentName, kind, clientId: BigInt(s.client), clockKey: 'key' in s ? (s as DeletionSpan).key : s.from });
    await this.prisma.$transaction([
      ...(authors.length > 0
        ? [this.prisma.historyAuthor.createMany({ data: authors.map(({ client, author }) => ({ documentName, projectId, clientId: BigInt(client), ...authorRow(author) })), skipDuplicates: true })]
        : []),
      ...[...inserts.map((s) => ['insert', s] as const), ...deletions.map((s) => ['delete', s] as const)].map(([kind, s]) => {
        const by = 'by' in s ? (s as DeletionSpan).by : null;
        const row = {
          ...spanRow(kind, s), projectId, clockFrom: s.from, clockTo: s.to, at: new Date(s.at),
          byUserId: by && 'userId' in by ? by.userId : null, byClientId: by && 'client' in by ? BigInt(by.client) : null,
        };
        return this.prisma.historySpan.upsert({ where: { documentName_kind_clientId_clockKey: spanRow(kind, s) }, create: row, update: { clockFrom: s.from, clockTo: s.to } });
      }),
    ]);
  }
}

interface AuthorRow {
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

function authorOf(row: AuthorRow): Author {
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
