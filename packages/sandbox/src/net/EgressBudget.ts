export interface EgressBudgetLimits {
  /** Bytes (both directions) one project may move through the proxy per minute, across its sessions. */
  bytesPerMinute: number;
  /** Bytes one run or terminal may move through the proxy in its whole life. */
  bytesPerSession: number;
}

export const DEFAULT_EGRESS_BUDGET: EgressBudgetLimits = { bytesPerMinute: 512 * 1024 * 1024, bytesPerSession: 4 * 1024 * 1024 * 1024 };

interface Bucket {
  tokens: number;
  at: number;
}

const MAX_TRACKED = 100_000;
const mib = (bytes: number) => `${Math.round(bytes / 1024 / 1024)} MiB`;

/**
 * Bytes through the egress proxy, per project (a token bucket holding one minute's worth, so a
 * burst up to that is fine and the sustained rate is a minute's worth per minute) and per session
 * (a total). One project downloading without end would otherwise take the host's bandwidth from
 * everyone; past either limit its new connections are refused and open ones cut, with a message
 * that says which limit and when it frees up.
 */
export class EgressBudget {
  private readonly projects = new Map<string, Bucket>();
  private readonly sessions = new Map<string, number>();

  constructor(readonly limits: EgressBudgetLimits, private readonly now: () => number = Date.now) {}

  /** Why this session may not move bytes now, or null when it may. */
  refusal(projectId: string, sessionId: string): string | null {
    if ((this.sessions.get(sessionId) ?? 0) >= this.limits.bytesPerSession) {
      return `Tandem stopped network access for this run or terminal: it moved more than ${mib(this.limits.bytesPerSession)} through the proxy (the limit per run or terminal). Start a new one to continue.`;
    }
    const bucket = this.bucket(projectId);
    if (bucket.tokens > 0) return null;
    const waitS = Math.max(1, Math.ceil((-bucket.tokens + 1) / (this.limits.bytesPerMinute / 60_000) / 1000));
    return `Tandem paused network access for this project: it moved more than ${mib(this.limits.bytesPerMinute)} through the proxy in the last minute (the limit per project). Try again in ${waitS} s.`;
  }

  /** Counts `bytes` moved by the session; returns the refusal once it went over a limit. */
  spend(projectId: string, sessionId: string, bytes: number): string | null {
    this.bucket(projectId).tokens -= bytes;
    if (!this.sessions.has(sessionId) && this.sessions.size >= MAX_TRACKED) this.sessions.clear();
    this.sessions.set(sessionId, (this.sessions.get(sessionId) ?? 0) + bytes);
    return this.refusal(projectId, sessionId);
  }

  /** The session ended: its total is no longer needed. */
  endSession(sessionId: string): void {
    this.sessions.delete(sessionId);
  }

  private bucket(projectId: string): Bucket {
    const t = this.now();
    let b = this.projects.get(projectId);
    if (!b) {
      if (this.projects.size >= MAX_TRACKED) this.sweep(t);
      b = { tokens: this.limits.bytesPerMinute, at: t };
      this.projects.set(projectId, b);
    }
    b.tokens = Math.min(this.limits.bytesPerMinute, b.tokens + ((t - b.at) * this.limits.bytesPerMinute) / 60_000);
    b.at = t;
    return b;
  }

  /** Full buckets carry no state worth keeping. */
  private sweep(t: number): void {
    for (const [id, b] of this.projects) if (b.tokens + ((t - b.at) * this.limits.bytesPerMinute) / 60_000 >= this.limits.bytesPerMinute) this.projects.delete(id);
  }
}
