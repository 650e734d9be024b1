import { parseDocName } from '@tandem/protocol';
import type { PrismaClient } from './generated/client.ts';
import { asBytes } from './bytes.ts';
import type { RawQuery } from './openDatabase.ts';

export interface PrismaDocumentStoreOptions {
  /**
   * Several nodes write this database: a node's snapshot may then lack updates another node
   * stored (or that committed out of id order), so compaction merges them in (`Y.mergeUpdates`,
   * injected so this package needs no Yjs). With one node (`undefined`), appends to a document are
   * serialized by its only writer, so the given snapshot holds every update up to `through`
   * and compaction skips that costly merge.
   */
  mergeUpdates?: (updates: Uint8Array[]) => Uint8Array;
  /** `Database.rawQuery` (the embedded database): appends bypass Prisma. */
  rawQuery?: RawQuery | undefined;
}

/** Rows per INSERT statement (PostgreSQL allows 65,535 parameters; a batch is rarely this long). */
const ROWS_PER_INSERT = 5000;

/** Namespace of the per-document compaction locks (two-key advisory locks; 7321004 is migrations). */
const COMPACTION_LOCK_SPACE = 7321005;

/**
 * Yjs documents in the database: `Document.snapshot` plus an append-only `DocumentUpdate` log.
 * Cursors are DocumentUpdate ids (one sequence for all documents, increasing per document).
 * Implements @tandem/collab's DocumentStore contract (structurally: db does not import collab).
 */
export class PrismaDocumentStore {
  /** Documents known to have a row, so appends skip the upsert. */
  private readonly known = new Set<string>();

  constructor(
    private readonly prisma: PrismaClient,
    private readonly options: PrismaDocumentStoreOptions = {},
  ) {}

  // Snapshots and updates (up to the document size limit, MiBs) go through raw statements: Prisma's
  // query compiler handles bytes on the server's event loop (~0.3 s for a 3 MiB snapshot).
  async load(documentName: string): Promise<{ snapshot: Uint8Array | null; updates: Uint8Array[]; cursor: number }> {
    const query = this.query();
    const [[doc], updates] = await Promise.all([
      query<{ snapshot: Uint8Array | null; compactedThrough: bigint | number | string }>('SELECT "snapshot", "compactedThrough" FROM "Document" WHERE "name" = $1', [documentName]),
      query<{ id: bigint | number | string; data: Uint8Array }>('SELECT "id", "data" FROM "DocumentUpdate" WHERE "documentName" = $1 ORDER BY "id"', [documentName]),
    ]);
    if (doc) this.known.add(documentName);
    const last = updates.at(-1);
    return {
      snapshot: doc?.snapshot ?? null,
      updates: updates.map((u) => u.data),
      cursor: last ? Number(last.id) : Number(doc?.compactedThrough ?? 0),
    };
  }

  async append(documentName: string, updates: readonly Uint8Array[]): Promise<number> {
    if (!this.known.has(documentName)) {
      const ref = parseDocName(documentName);
      if (!ref) throw new Error(`Not a document name: ${documentName}`);
      await this.prisma.document.createMany({ data: [{ name: documentName, projectId: ref.projectId }], skipDuplicates: true });
      this.known.add(documentName);
    }
    // One raw multi-row INSERT per batch: the bytes go to the driver as they are, without the
    // query builder's per-row work (it was a tenth of the server's CPU under fast typing).
    if (updates.length <= ROWS_PER_INSERT) return insertUpdates(this.query(), documentName, updates);
    // Longer batches: several statements, all or nothing.
    return this.prisma.$transaction(async (tx) => {
      let last = 0;
      for (let start = 0; start < updates.length; start += ROWS_PER_INSERT) {
        last = await insertUpdates(prismaQuery(tx), documentName, updates.slice(start, start + ROWS_PER_INSERT));
      }
      return last;
    });
  }

  /**
   * Folds the log up to `through` into the stored snapshot. Safe with any number of server nodes
   * compacting and appending at once: the caller's `snapshot` may lack updates another node
   * committed (not yet relayed to it, or committed with a lower id after a higher one: sequence
   * values are handed out before commit). So, in one transaction under a per-document lock (a node
   * that finds it taken skips: another node is compacting), the stored snapshot, the caller's
   * snapshot and every update with id <= `through` visible now are merged, and exactly the rows
   * read are deleted. An update that commits later with a lower id stays in the log.
   */
  async compact(documentName: string, snapshot: Uint8Array, through: number): Promise<void> {
    const merge = this.options.mergeUpdates;
    if (!merge) {
      // One statement (atomic). A document deleted meanwhile (its project was deleted or reset) is not an error.
      await this.query()(
        'WITH deleted AS (DELETE FROM "DocumentUpdate" WHERE "documentName" = $1 AND "id" <= $3::bigint) '
          + 'UPDATE "Document" SET "snapshot" = $2, "compactedThrough" = $3::bigint, "updatedAt" = now() AT TIME ZONE \'UTC\' WHERE "name" = $1',
        [documentName, asBytes(snapshot), String(through)],
      );
      return;
    }
    await this.prisma.$transaction(async (tx) => {
      const [lock] = await tx.$queryRaw<{ locked: boolean }[]>`SELECT pg_try_advisory_xact_lock(${COMPACTION_LOCK_SPACE}::int, hashtext(${documentName})) AS locked`;
      if (!lock?.locked) return;
      const doc = await tx.document.findUnique({ where: { name: documentName }, select: { snapshot: true, compactedThrough: true } });
      if (!doc) return;
      const rows = await tx.documentUpdate.findMany({
        where: { documentName, id: { lte: BigInt(through) } },
        orderBy: { id: 'asc' },
        select: { id: true, data: true },
      });
      const merged = merge([...(doc.snapshot ? [doc.snapshot] : []), snapshot, ...rows.map((r) => r.data)]);
      const compactedThrough = doc.compactedThrough > BigInt(through) ? doc.compactedThrough : BigInt(through);
      await tx.document.update({ where: { name: documentName }, data: { snapshot: asBytes(merged), compactedThrough } });
      if (rows.length > 0) await tx.documentUpdate.deleteMany({ where: { id: { in: rows.map((r) => r.id) } } });
    });
  }

  private query(): RawQuery {
    return this.options.rawQuery ?? prismaQuery(this.prisma);
  }

  /** Forget cached existence (after a project is deleted). */
  forget(projectId: string): void {
    for (const name of this.known) if (name.startsWith(`${projectId}/`)) this.known.delete(name);
  }
}

function prismaQuery(client: Pick<PrismaClient, '$queryRawUnsafe'>): RawQuery {
  return <T>(sql: string, params: unknown[]) => client.$queryRawUnsafe<T[]>(sql, ...params);
}

/** Inserts the updates as DocumentUpdate rows with one statement; returns the last id. */
async function insertUpdates(query: RawQuery, documentName: string, updates: readonly Uint8Array[]): Promise<number> {
  const values = updates.map((_, i) => `($1, $${i + 2})`).join(', ');
  const [row] = await query<{ last: bigint | number | string | null }>(
    `WITH inserted AS (INSERT INTO "DocumentUpdate" ("documentName", "data") VALUES ${values} RETURNING "id") SELECT max("id") AS "last" FROM inserted`,
    [documentName, ...updates.map(asBytes)],
  );
  if (row?.last === null || row?.last === undefined) throw new Error(`append to ${documentName} stored nothing`);
  return Number(row.last);
}
