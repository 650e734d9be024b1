/** Per-client limits. Exceeding one closes that client only, with the close code noted. */
export interface SyncLimits {
  /** Largest message accepted (a client's sync step 2 holds its whole document); above: 4413. */
  maxMessageBytes: number;
  /** Open connections per user across all documents; above: 4430. */
  maxConnectionsPerUser: number;
  /** Distinct documents a user may have open at once; above: 4430. */
  maxDocumentsPerUser: number;
  /** Messages buffered while a client is authenticated and its document loads; above: 4429. */
  maxHeldMessages: number;
  /** Bytes queued towards a client that stopped reading; above: closed with 4000 (reconnect). */
  maxBufferedBytes: number;
  /**
   * Awareness changes (states an awareness update changed on the server; stale echoes are free),
   * awareness queries and sync step 1 (state requests) a client may send per second, sustained,
   * and in a burst; above: 4429. Document updates are not limited here.
   */
  controlMessagesPerSecond: number;
  controlMessagesBurst: number;
  /**
   * Size of one document (its encoded state: the last snapshot plus the updates since); a
   * document update that would take it past this is refused: 4413, and the reason names the limit.
   */
  maxDocumentBytes: number;
  /**
   * Document updates one user may send per second across all their connections, in bytes (each
   * message costs at least `minUpdateCost`), and in a burst; above: 4429 (the client retries).
   */
  userUpdateBytesPerSecond: number;
  userUpdateBurstBytes: number;
}

/** What one document update message costs at least against the user's byte budget. */
export const MIN_UPDATE_COST = 256;

/** Timing and persistence knobs. */
export interface SyncTuning {
  /** A document without connections is flushed, compacted and dropped from memory after this. */
  unloadAfterIdleMs: number;
  /** Keep-alive ping period; a client that missed the previous ping is dropped. 0 disables. */
  pingIntervalMs: number;
  /** Extra time the group commit waits for more updates when idle (0: end of the I/O phase). */
  commitWindowMs: number;
  /** Delays between attempts of a failing append; then the document's clients are closed (4500). */
  appendRetryDelaysMs: readonly number[];
  /** Compact the update log into a snapshot after this many appended updates (and on unload). */
  compactAfterUpdates: number;
  /** onStoreDocument runs this long after the last change… */
  storeDebounceMs: number;
  /** …or at the latest this long after the first unstored change. */
  storeMaxWaitMs: number;
}

export const DEFAULT_LIMITS: SyncLimits = {
  maxMessageBytes: 8 * 1024 * 1024,
  maxConnectionsPerUser: 64,
  maxDocumentsPerUser: 64,
  maxHeldMessages: 1000,
  maxBufferedBytes: 32 * 1024 * 1024,
  // y-monaco sends an awareness update per selection change: a mouse drag is ~60/s.
  controlMessagesPerSecond: 100,
  controlMessagesBurst: 300,
  maxDocumentBytes: 4 * 1024 * 1024,
  userUpdateBytesPerSecond: 1024 * 1024,
  userUpdateBurstBytes: 16 * 1024 * 1024,
};

export const DEFAULT_TUNING: SyncTuning = {
  unloadAfterIdleMs: 30_000,
  pingIntervalMs: 30_000,
  commitWindowMs: 0,
  appendRetryDelaysMs: [100, 500, 2000],
  compactAfterUpdates: 1000,
  storeDebounceMs: 2000,
  storeMaxWaitMs: 10_000,
};
