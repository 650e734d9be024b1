import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { AddressInfo } from 'node:net';
import next from 'next';
import { createHTTPHandler } from '@trpc/server/adapters/standalone';
import { appRouter, EventHub, type ProjectEvents, type Services } from '@tandem/api';
import { AuthService } from '@tandem/auth';
import { openDatabase, PrismaDocumentStore, type Database } from '@tandem/db';
import { SyncServer, mergeUpdates } from '@tandem/collab';
import { SYNC_PATH_PREFIX, type Role } from '@tandem/protocol';
import { authenticateSync } from './authenticateSync.ts';
import { handleProjectArchiveRequest, isProjectArchivePath } from './projectArchive.ts';
import type { Env } from './env.ts';
import { createHttpContext } from './httpContext.ts';
import { createAiService } from './createAiService.ts';
import { SuggestionSyncHook, createSuggestions } from './createSuggestions.ts';
import { SandboxSyncHook, createSandboxes } from './createSandboxes.ts';
import { createAgent } from './createAgent.ts';
import { createCluster, defaultNodeUrl } from './cluster/createCluster.ts';

const TRPC_PREFIX = '/api/trpc/';
const MAX_TRPC_BODY = 2 * 1024 * 1024;

export interface TandemServer {
  url: string;
  db: Database;
  sync: SyncServer;
  close(): Promise<void>;
}

/**
 * The composition root: one HTTP server on one port serving the web app (Next), the API (tRPC)
 * and the sync endpoint, all sharing one database and one set of services.
 */
export async function startTandemServer(env: Env, opts: { withWeb?: boolean } = {}): Promise<TandemServer> {
  const db = await openDatabase({ url: env.DATABASE_URL, dataDir: env.TANDEM_DATA_DIR });
  // Several nodes (REDIS_URL): README → Running several nodes.
  const cluster = env.REDIS_URL ? await createCluster({ ...env, REDIS_URL: env.REDIS_URL }).catch(async (e: unknown) => {
    await db.close();
    throw e;
  }) : null;
  const auth = new AuthService(db.prisma, { secret: env.secret });
  const store = new PrismaDocumentStore(db.prisma, cluster ? { mergeUpdates } : {});
  const suggestionHook = new SuggestionSyncHook();
  const sandboxHook = new SandboxSyncHook();
  const sync = new SyncServer({
    store,
    ...(cluster ? { bus: cluster.documentBus } : {}),
    onAuthenticate: (p) => authenticateSync(db.prisma, auth, p),
    extensions: [suggestionHook, sandboxHook, ...(cluster ? [cluster.fileChanges] : [])],
  });
  const hub = new EventHub(cluster ? { bus: cluster.eventBus } : {});
  const forwardCancel = cluster ? (userId: string, requestId: string) => cluster.commands.broadcast('ai-cancel', { userId, requestId }) : undefined;
  const services: Services = { hub, ai: createAiService(env, hub, { forwardCancel }) };
  services.suggestions = await createSuggestions({ prisma: db.prisma, hub, sync, hook: suggestionHook, perProject: cluster !== null });
  services.sandboxes = await createSandboxes(env, { prisma: db.prisma, hub, sync, hook: sandboxHook });
  services.agent = await createAgent({ prisma: db.prisma, hub, sync, sandbox: services.sandboxes.host, perProject: cluster !== null });
  let nodeUrl = '';
  const projectCalls = cluster?.attach({
    sync, hub, ai: services.ai, suggestions: services.suggestions, sandboxes: services.sandboxes, agent: services.agent,
    forgetDocuments: (projectId) => store.forget(projectId),
    filesChangedElsewhere: (projectId) => sandboxHook.changedElsewhere(projectId),
  }, () => nodeUrl);
  const events: ProjectEvents = {
    accessChanged: (projectId: string, userId: string, role: Role | null) => {
      sync.setAccess(projectId, userId, role);
      if (role === null) services.hub.revoke(projectId, userId);
      cluster?.accessChanged(projectId, userId, role);
    },
    projectDeleted: (projectId: string) => {
      cluster?.projectDeleted(projectId);
      store.forget(projectId);
      services.suggestions?.forgetProject(projectId);
      services.agent?.forgetProject(projectId);
      services.sandboxes?.removeProject(projectId).catch((e: unknown) => console.error(`[sandbox] removing ${projectId} failed:`, e));
    },
  };

  const trpc = createHTTPHandler({
    router: appRouter,
    basePath: TRPC_PREFIX,
    maxBodySize: MAX_TRPC_BODY,
    createContext: ({ req, res }) =>
      createHttpContext({ prisma: db.prisma, auth, events, services, secureCookies: env.COOKIE_SECURE === 'true', publicUrl: env.TANDEM_PUBLIC_URL }, req, res),
  });

  let web: ReturnType<typeof next> | null = null;
  if (opts.withWeb !== false) {
    web = next({ dev: env.dev, dir: env.webDir, hostname: 'localhost', port: env.PORT });
    await web.prepare();
  }
  const webHandler = web?.getRequestHandler();
  const webUpgrade = web?.getUpgradeHandler();

  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    res.setHeader('X-Content-Type-Options', 'nosniff');
    res.setHeader('Referrer-Policy', 'same-origin');
    res.setHeader('X-Frame-Options', 'DENY');
    const path = req.url ?? '/';
    if (path.startsWith(TRPC_PREFIX) && projectCalls) {
      return void projectCalls.handle(req, res, trpc).catch((e: unknown) => {
        console.error('[cluster] routing a project call failed:', e);
        if (!res.headersSent) res.writeHead(500).end();
      });
    }
    if (path.startsWith(TRPC_PREFIX)) return void trpc(req, res);
    if (isProjectArchivePath(path)) return void handleProjectArchiveRequest({ prisma: db.prisma, auth, sync }, req, res);
    if (path === '/api/health') return void res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
    if (webHandler) return void webHandler(req, res);
    res.writeHead(404).end();
  });

  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    if (req.url?.startsWith(SYNC_PATH_PREFIX)) return sync.handleUpgrade(req, socket, head);
    if (webUpgrade && env.dev) return void webUpgrade(req, socket, head);
    socket.destroy();
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(env.PORT, env.HOST, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const url = `http://localhost:${port}`;
  nodeUrl = defaultNodeUrl(env, port);

  let closing: Promise<void> | null = null;
  return {
    url,
    db,
    sync,
    close() {
      closing ??= (async () => {
        await services.suggestions?.close(); // stops generations; each records its end while documents and database are up
        await services.agent?.close(); // aborts agent runs (they record how far they got)
        await services.sandboxes?.close(); // kills runs and terminals (recording how runs ended), removes cgroups
        await cluster?.releaseProjects(); // their next calls go to another node
        await sync.close(); // flushes every document (and publishes it to the other nodes), closes clients with a reconnect hint
        await services.ai.close(); // aborts completions (their tabs get a final event), frees models
        server.closeIdleConnections();
        await new Promise<void>((resolve) => {
          server.close(() => resolve());
          setTimeout(() => { server.closeAllConnections(); }, 2000).unref();
        });
        await web?.close?.();
        await cluster?.close(); // after everything above was published
        await db.close();
      })();
      return closing;
    },
  };
}
