import type { SyncConnection } from './SyncConnection.ts';
import type { SyncLimits } from './SyncSettings.ts';
import { TokenBucket } from './TokenBucket.ts';

/**
 * The per-user side of the limits: each user's open connections (maxConnectionsPerUser,
 * maxDocumentsPerUser) and the document update bytes they may still send, shared by all their
 * connections (userUpdateBytesPerSecond).
 */
export class UserConnections {
  private readonly byUser = new Map<string, Set<SyncConnection>>();
  private readonly updateBudgets = new Map<string, TokenBucket>();

  constructor(
    private readonly limits: SyncLimits,
    private readonly clock: () => number,
  ) {}

  /** Why `userId` may not open another connection to `documentName`, or null. */
  refusal(userId: string, documentName: string): string | null {
    const open = this.byUser.get(userId);
    if (!open) return null;
    if (open.size >= this.limits.maxConnectionsPerUser) return 'Too many open connections.';
    const documents = new Set([...open].map((c) => c.documentName));
    if (!documents.has(documentName) && documents.size >= this.limits.maxDocumentsPerUser) return 'Too many open documents.';
    return null;
  }

  /** An authenticated connection opened. */
  add(connection: SyncConnection): void {
    const id = connection.user.id;
    let set = this.byUser.get(id);
    if (!set) this.byUser.set(id, (set = new Set()));
    set.add(connection);
    if (!this.updateBudgets.has(id)) {
      this.updateBudgets.set(id, new TokenBucket(this.limits.userUpdateBytesPerSecond, this.limits.userUpdateBurstBytes, this.clock));
    }
  }

  /** An authenticated connection closed. */
  remove(connection: SyncConnection): void {
    const id = connection.user.id;
    const set = this.byUser.get(id);
    set?.delete(connection);
    if (set?.size !== 0) return;
    this.byUser.delete(id);
    // Kept for a user with no connections left only while it is spent (so reconnecting does not refill it).
    if (this.updateBudgets.get(id)?.full) this.updateBudgets.delete(id);
  }

  /** Takes `bytes` from the user's update budget; false when it is spent. */
  takeUpdateBytes(userId: string, bytes: number): boolean {
    const budget = this.updateBudgets.get(userId);
    return !budget || budget.take(bytes);
  }
}
