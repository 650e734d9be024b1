/** Bounds on language servers, so one project or one tab cannot take the host from the others. */
export interface LspLimits {
  /** Language servers alive at once on this host (each is a Node process of ~100-300 MB); 0 turns them off. */
  maxServers: number;
  /** A server with no attached tab is stopped after this long. */
  idleMs: number;
  /** cgroup memory of one server (its V8 heap is kept below it). */
  memoryBytes: number;
  /** Tabs attached to one project's server. */
  maxPeersPerProject: number;
  /** Largest message a tab may send (the WebSocket refuses larger frames). */
  maxClientMessageBytes: number;
  /** Largest message read from the server; a larger one stops it (the stream cannot resync). */
  maxServerMessageBytes: number;
  /** Largest answer sent to a tab; a larger one becomes an error answer. */
  maxResponseBytes: number;
  /** Requests per second a tab may make (token bucket), and the burst above it. */
  requestsPerSecond: number;
  requestBurst: number;
  /** Unanswered requests a tab may have at once. */
  maxPendingPerPeer: number;
  /** Python files opened in the server, and the largest one. */
  maxFiles: number;
  maxFileBytes: number;
}

export const DEFAULT_LSP_LIMITS: LspLimits = {
  maxServers: 4,
  idleMs: 60_000,
  memoryBytes: 512 * 1024 * 1024,
  maxPeersPerProject: 32,
  maxClientMessageBytes: 64 * 1024,
  maxServerMessageBytes: 16 * 1024 * 1024,
  maxResponseBytes: 2 * 1024 * 1024,
  requestsPerSecond: 20,
  requestBurst: 40,
  maxPendingPerPeer: 16,
  maxFiles: 500,
  maxFileBytes: 1024 * 1024,
};
