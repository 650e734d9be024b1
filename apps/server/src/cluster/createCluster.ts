import { randomBytes } from 'node:crypto';
import { hostname, networkInterfaces } from 'node:os';
import { Redis } from 'ioredis';
import type { RateStore } from '@tandem/auth';
import { projectHomeProcedures, type AgentService, type AiService, type EventHub, type MembershipCache, type SandboxService, type SuggestionService } from '@tandem/api';
import { RedisDocumentBus, RedisPubSub, type DocumentBus, type SyncExtension, type SyncServer } from '@tandem/collab';
import { parseDocName, type Role } from '@tandem/protocol';
import type { Env } from '../env.ts';
import { NodeCommandBus } from './NodeCommandBus.ts';
import { ProjectCallRouter } from './ProjectCallRouter.ts';
import { ProjectHomes } from './ProjectHomes.ts';
import { RedisEventBus } from './RedisEventBus.ts';
import { RedisRateStore } from './RedisRateStore.ts';

/** What the cluster acts on: this node's services (created after the cluster is connected). */
export interface ClusterServices {
  sync: SyncServer;
  hub: EventHub;
  ai: AiService;
  suggestions?: SuggestionService;
  sandboxes?: SandboxService;
  /** Roles cached by this node: every membership change made elsewhere invalidates them. */
  memberships: MembershipCache;
  agent?: AgentService;
  /** Forgets a project's cached state in the document store. */
  forgetDocuments(projectId: string): void;
  /** Marks a project's files changed by another node (sandbox working copies). */
  filesChangedElsewhere(projectId: string): void;
  /** Credentials ended through another node: close their connections here, drop cached callers. */
  revokeCredentials(credentialIds: string[]): void;
  /** Redis reconnected: node commands sent meanwhile were lost (drop caches they would invalidate). */
  lostMessages(): void;
}

/**
 * One node of several (REDIS_URL set): the buses to the other nodes and the project homes.
 * Create it before the services (they take its buses), then `attach` the services.
 */
export interface Cluster {
  nodeId: string;
  /** For the SyncServer: document changes and awareness between nodes. */
  documentBus: DocumentBus;
  /** For the EventHub: events reach SSE subscribers on every node. */
  eventBus: RedisEventBus;
  commands: NodeCommandBus;
  /** For the SyncServer: tells the other nodes when a project's documents changed here. */
  fileChanges: SyncExtension;
  /** Rate-limit counters every node shares (sign-in throttle, sign-ups per IP, per-user budgets). */
  rateStore: RateStore;
  /**
   * Registers the services with the other nodes; returns the router of project-bound calls.
   * `nodeUrl` / `nodePreviewUrl`: how the other nodes reach this node's API and preview origin.
   */
  attach(services: ClusterServices, nodeUrl: () => string, nodePreviewUrl?: () => string | null): ProjectCallRouter;
  /** The preview origin of the project's home node when that is another node (null: here, or no home). */
  remotePreviewHome(projectId: string): Promise<string | null>;
  /** A membership change made here, for the other nodes (apply it locally yourself). */
  accessChanged(projectId: string, userId: string, role: Role | null): void;
  projectDeleted(projectId: string): void;
  credentialsRevoked(credentialIds: string[]): void;
  /** Hands this node's projects over to the others (after its services stopped). */
  releaseProjects(): Promise<void>;
  /** Stops listening and closes the Redis connections (last, after everything was flushed). */
  close(): Promise<void>;
}

/** Notices of changed project files are sent at most this often per project (plus a trailing one). */
const FILE_NOTICE_INTERVAL_MS = 100;

/** Connects this node to Redis and to the other nodes. Fails at start-up if Redis is unreachable. */
export async function createCluster(env: Env & { REDIS_URL: string }, logError: (message: string, error: unknown) => void = (m, e) => console.error(m, e)): Promise<Cluster> {
  const nodeId = env.TANDEM_NODE_ID ?? `${hostname()}-${process.pid}-${randomBytes(3).toString('hex')}`;
  const prefix = env.TANDEM_REDIS_PREFIX;
  const logger = { warn: (m: string, e?: unknown) => console.warn(`[cluster] ${m}`, e ?? ''), error: (m: string, e?: unknown) => logError(`[cluster] ${m}`, e) };
  const pubsub = new RedisPubSub({ url: env.REDIS_URL, prefix, logger });
  const redis = new Redis(env.REDIS_URL, { maxRetriesPerRequest: 2, connectionName: 'tandem-leases' });
  redis.on('error', (error: Error) => logger.warn(`redis: ${error.message}`));
  try {
    await pubsub.ready();
  } catch (error) {
    await pubsub.close();
    redis.disconnect();
    throw error;
  }
  const eventBus = new RedisEventBus(pubsub, logError);
  const commands = new NodeCommandBus(pubsub, nodeId, logError);
  await Promise.all([eventBus.start(), commands.start()]);
  const notices = new FileChangeNotices((projectId) => commands.broadcast('project-files-changed', { projectId }));
  let homes: ProjectHomes | null = null;
  let router: ProjectCallRouter | null = null;

  return {
    nodeId,
    documentBus: new RedisDocumentBus(pubsub, nodeId, logger),
    eventBus,
    commands,
    rateStore: new RedisRateStore(redis, prefix, (m) => logger.warn(m)),
    fileChanges: {
      onChange: ({ documentName, remote }) => {
        const ref = parseDocName(documentName);
        if (ref && !remote) notices.changed(ref.projectId);
      },
    },
    attach(services, nodeUrl, nodePreviewUrl) {
      commands.on('access-changed', ({ projectId, userId, role }) => {
        services.memberships.changed(projectId, userId);
        services.sync.setAccess(projectId, userId, role);
        if (role === null) services.hub.revoke(projectId, userId);
      });
      pubsub.onReconnect(() => services.lostMessages());
      commands.on('credentials-revoked', ({ credentialIds }) => services.revokeCredentials(credentialIds.filter((id) => typeof id === 'string')));
      commands.on('project-deleted', ({ projectId }) => {
        services.memberships.forgetProject(projectId);
        services.forgetDocuments(projectId);
        services.suggestions?.forgetProject(projectId);
        services.agent?.forgetProject(projectId);
        services.sandboxes?.removeProject(projectId).catch((e: unknown) => logError(`[sandbox] removing ${projectId} failed:`, e));
      });
      commands.on('ai-cancel', ({ userId, requestId }) => void services.ai.cancelHere(userId, requestId));
      commands.on('ai-settings-changed', ({ projectId }) => services.ai.settingsChangedHere(projectId));
      commands.on('project-files-changed', ({ projectId }) => services.filesChangedElsewhere(projectId));
      homes = new ProjectHomes({
        redis,
        prefix,
        nodeId,
        nodeUrl,
        nodePreviewUrl,
        onAcquired: async (projectId) => {
          await services.suggestions?.start(projectId);
          await services.sandboxes?.recoverInterruptedRuns(projectId);
          await services.agent?.recoverInterrupted(projectId);
        },
        onLost: (projectId) => {
          logError(`[cluster] this node lost project ${projectId} to another node (its lease expired); dropping its AI edits in memory`, null);
          services.suggestions?.forgetProject(projectId);
          services.agent?.forgetProject(projectId);
        },
        logError,
      });
      router = new ProjectCallRouter({ homes, homeProcedures: projectHomeProcedures, nodeId, secret: env.secret, maxBodyBytes: 2 * 1024 * 1024 });
      return router;
    },
    async remotePreviewHome(projectId) {
      const home = await homes?.lookup(projectId);
      return home && !home.local ? home.previewUrl : null;
    },
    accessChanged: (projectId, userId, role) => commands.broadcast('access-changed', { projectId, userId, role }),
    projectDeleted: (projectId) => commands.broadcast('project-deleted', { projectId }),
    credentialsRevoked: (credentialIds) => commands.broadcast('credentials-revoked', { credentialIds }),
    async releaseProjects() {
      await homes?.close();
    },
    async close() {
      notices.stop();
      router?.close();
      await homes?.close();
      eventBus.stop();
      commands.stop();
      await pubsub.close();
      await redis.quit().catch(() => redis.disconnect());
    },
  };
}

/**
 * Per project: a notice at the first change, then at most one per interval while changes go on
 * (the last change always gets one), so typing does not become one Redis message per keystroke.
 */
class FileChangeNotices {
  private readonly timers = new Map<string, { timer: NodeJS.Timeout; pending: boolean }>();

  constructor(private readonly send: (projectId: string) => void) {}

  changed(projectId: string): void {
    const waiting = this.timers.get(projectId);
    if (waiting) {
      waiting.pending = true;
      return;
    }
    this.send(projectId);
    this.arm(projectId);
  }

  stop(): void {
    for (const { timer } of this.timers.values()) clearTimeout(timer);
    this.timers.clear();
  }

  private arm(projectId: string): void {
    const entry = {
      pending: false,
      timer: setTimeout(() => {
        this.timers.delete(projectId);
        if (entry.pending) {
          this.send(projectId);
          this.arm(projectId);
        }
      }, FILE_NOTICE_INTERVAL_MS).unref(),
    };
    this.timers.set(projectId, entry);
  }
}

/** How other nodes reach this one: TANDEM_NODE_URL, or this host's address and the bound port. */
export function defaultNodeUrl(env: Env, port: number): string {
  if (env.TANDEM_NODE_URL) return env.TANDEM_NODE_URL.replace(/\/$/, '');
  const wildcard = env.HOST === '0.0.0.0' || env.HOST === '::';
  const host = wildcard ? firstExternalAddress() ?? '127.0.0.1' : env.HOST;
  return `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
}

function firstExternalAddress(): string | null {
  for (const addresses of Object.values(networkInterfaces())) {
    for (const address of addresses ?? []) if (address.family === 'IPv4' && !address.internal) return address.address;
  }
  return null;
}
