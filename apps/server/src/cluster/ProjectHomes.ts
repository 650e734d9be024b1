import type { Redis } from 'ioredis';
import { AppError } from '@tandem/protocol';

/** The node a project's stateful calls run on, and how to reach it. */
export interface ProjectHome {
  nodeId: string;
  /** Base URL other nodes forward HTTP calls to. */
  url: string;
  /** Base URL of the node's preview origin (null: it has none), for preview requests another node received. */
  previewUrl: string | null;
  local: boolean;
}

export interface ProjectHomesOptions {
  redis: Redis;
  prefix: string;
  nodeId: string;
  /** This node's base URL for the others (known once the server listens). */
  nodeUrl: () => string;
  /** This node's preview origin for the others (null until it listens, or without sandbox network). */
  nodePreviewUrl?: () => string | null;
  /** A home that stops renewing (crashed) is replaced after this long. Default 10 s. */
  leaseMs?: number;
  /** Runs when this node becomes a project's home, before any of its calls run here. */
  onAcquired(projectId: string): Promise<void>;
  /** This node's lease was taken over (it could not renew in time): drop the project's state. */
  onLost(projectId: string): void;
  logError?: (message: string, error: unknown) => void;
}

/** Extends the lease only while it is still ours. */
const RENEW = `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('pexpire', KEYS[1], ARGV[2]) else return 0 end`;
/** Deletes the lease only if it still names the given holder. */
const RELEASE = `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end`;

/**
 * Project homes: each project's in-memory services (shared AI edits under review, runs, terminals)
 * live on exactly one node at a time, its home, named by a lease in Redis (`SET NX PX`, renewed
 * every third of its length). A project gets a home the first time one of its stateful calls
 * arrives; calls arriving on other nodes are forwarded there (ProjectCallRouter). A node that dies
 * stops renewing and the next call after the lease expires makes its node the new home.
 */
export class ProjectHomes {
  private readonly leaseMs: number;
  private readonly held = new Set<string>();
  private readonly acquiring = new Map<string, Promise<ProjectHome>>();
  private readonly renewTimer: NodeJS.Timeout;
  private readonly logError: (message: string, error: unknown) => void;
  private closed = false;

  constructor(private readonly options: ProjectHomesOptions) {
    this.leaseMs = options.leaseMs ?? 10_000;
    this.logError = options.logError ?? ((m, e) => console.error(m, e));
    this.renewTimer = setInterval(() => void this.renew(), Math.max(100, Math.floor(this.leaseMs / 3))).unref();
  }

  /** The project's home; claims it for this node when it has none. */
  async homeOf(projectId: string): Promise<ProjectHome> {
    if (this.closed) throw new AppError('UNAVAILABLE', 'This server is shutting down; try again.');
    if (this.held.has(projectId)) return this.self();
    const running = this.acquiring.get(projectId);
    if (running) return running;
    const attempt = this.claim(projectId).finally(() => this.acquiring.delete(projectId));
    this.acquiring.set(projectId, attempt);
    return attempt;
  }

  /** The project's current home, without claiming it when it has none (null). */
  async lookup(projectId: string): Promise<ProjectHome | null> {
    if (this.held.has(projectId)) return this.self();
    const current = await this.options.redis.get(this.key(projectId));
    const home = current === null ? null : parseLease(current);
    return home && { ...home, local: home.nodeId === this.options.nodeId };
  }

  /** The home `node` stopped answering: forget its lease (if still its) so a live node can take over. */
  async evict(projectId: string, home: ProjectHome): Promise<void> {
    await this.options.redis.eval(RELEASE, 1, this.key(projectId), leaseValue(home.nodeId, home.url, home.previewUrl));
  }

  /** Projects this node is home of. */
  homes(): string[] {
    return [...this.held];
  }

  /** Stops renewing and hands every project back (another node takes over on the next call). */
  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.renewTimer);
    const projects = [...this.held];
    this.held.clear();
    await Promise.allSettled(projects.map((p) => this.options.redis.eval(RELEASE, 1, this.key(p), this.value)));
  }

  private async claim(projectId: string): Promise<ProjectHome> {
    const key = this.key(projectId);
    for (let attempt = 0; attempt < 3; attempt++) {
      const won = await this.options.redis.set(key, this.value, 'PX', this.leaseMs, 'NX');
      if (won === 'OK') {
        this.held.add(projectId);
        try {
          await this.options.onAcquired(projectId);
        } catch (error) {
          this.held.delete(projectId);
          await this.options.redis.eval(RELEASE, 1, key, this.value).catch(() => {});
          throw error;
        }
        return this.self();
      }
      const current = await this.options.redis.get(key);
      if (current === null) continue; // it expired between the two commands: try again
      const home = parseLease(current);
      if (home) return { ...home, local: home.nodeId === this.options.nodeId };
      await this.options.redis.eval(RELEASE, 1, key, current); // unreadable: replace it
    }
    throw new AppError('UNAVAILABLE', 'Could not find a server for this project; try again.');
  }

  private async renew(): Promise<void> {
    for (const projectId of [...this.held]) {
      try {
        const renewed = await this.options.redis.eval(RENEW, 1, this.key(projectId), this.value, String(this.leaseMs));
        if (renewed === 1 || !this.held.has(projectId)) continue;
        this.held.delete(projectId);
        this.options.onLost(projectId);
      } catch (error) {
        // Redis unreachable: keep serving; if the lease runs out meanwhile, the next renewal says so.
        this.logError(`[cluster] renewing the home lease of ${projectId} failed`, error);
      }
    }
  }

  private self(): ProjectHome {
    return { nodeId: this.options.nodeId, url: this.options.nodeUrl(), previewUrl: this.options.nodePreviewUrl?.() ?? null, local: true };
  }

  /** The lease's value: who holds it and where it listens. */
  private get value(): string {
    return leaseValue(this.options.nodeId, this.options.nodeUrl(), this.options.nodePreviewUrl?.() ?? null);
  }

  private key(projectId: string): string {
    return `${this.options.prefix}home:${projectId}`;
  }
}

/** Compared byte for byte by the release/renew scripts: always built here, in this key order. */
function leaseValue(nodeId: string, url: string, previewUrl: string | null): string {
  return JSON.stringify({ node: nodeId, url, ...(previewUrl ? { preview: previewUrl } : {}) });
}

function parseLease(value: string): Omit<ProjectHome, 'local'> | null {
  try {
    const parsed = JSON.parse(value) as { node?: unknown; url?: unknown; preview?: unknown };
    if (typeof parsed.node !== 'string' || typeof parsed.url !== 'string') return null;
    return { nodeId: parsed.node, url: parsed.url, previewUrl: typeof parsed.preview === 'string' ? parsed.preview : null };
  } catch {
    return null;
  }
}
