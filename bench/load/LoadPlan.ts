/** What the load orchestrator (load.ts) hands the generator process, and what it prints back. */

export interface LoadNode {
  /** http://127.0.0.1:<port> */
  url: string;
  /** The node's process, for its CPU time (/proc/<pid>/stat). */
  pid: number;
}

export interface LoadPlan {
  nodes: LoadNode[];
  /** The run's PostgreSQL database: its backends' CPU is counted (other databases' is not). */
  databaseName: string;
  documents: string[];
  /** One session cookie per user; client c is user ⌊c / documents⌋ on document c mod documents. */
  cookies: string[];
  clients: number;
  /** Per client. */
  editsPerSecond: number;
  warmupMs: number;
  measureMs: number;
}

export interface LatencySummary {
  count: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
}

export interface LoadResult {
  clients: number;
  documents: number;
  nodes: number;
  /** Edits per second over all clients. */
  targetRate: number;
  achievedRate: number;
  editsSent: number;
  /** How late the generator sent edits (send time − scheduled time): part of every latency. */
  sendLag: LatencySummary;
  /** Edit × peer pairs due in the window, and how many of them arrived. */
  deliveriesExpected: number;
  deliveriesSeen: number;
  errorCount: number;
  /** The first few errors (socket errors, unexpected closes, updates that failed to apply). */
  errors: string[];
  /** Edits missing from a client's final document (over all clients), and ones present twice. */
  lostUpdates: number;
  duplicatedUpdates: number;
  /** Documents where clients, or a fresh read from each node, disagree. */
  divergentDocuments: number;
  /** Origin → peer, from the scheduled send time (open loop), over the window. */
  latency: { all: LatencySummary; sameNode: LatencySummary; crossNode: LatencySummary };
  /** The five seconds of the window with the slowest delivery: [second, max ms], worst first. */
  worstSeconds: [number, number][];
  windowSeconds: number;
  /** CPU-seconds over the window. */
  serverCpuSeconds: number[];
  /** This database's backends plus the server-wide WAL writer, checkpointer and background writer. */
  postgresCpuSeconds: number;
  redisCpuSeconds: number;
  generatorCpuSeconds: number;
  /** Final text of each document as the clients agree on it, for the orchestrator's database check. */
  documentTexts: Record<string, string>;
}
