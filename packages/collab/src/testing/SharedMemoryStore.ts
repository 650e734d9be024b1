import * as Y from 'yjs';
import { MemoryDocumentStore } from '../MemoryDocumentStore.ts';

/**
 * A MemoryDocumentStore several in-process SyncServers ("nodes") can share: like the Prisma store,
 * compaction merges the stored snapshot and the log into the caller's snapshot instead of
 * replacing it, because a node's snapshot may lack updates another node appended.
 */
export class SharedMemoryStore extends MemoryDocumentStore {
  override async compact(documentName: string, snapshot: Uint8Array, through: number): Promise<void> {
    const stored = await this.load(documentName);
    const merged = Y.mergeUpdates([...(stored.snapshot ? [stored.snapshot] : []), snapshot, ...stored.updates]);
    await super.compact(documentName, merged, through);
  }
}
