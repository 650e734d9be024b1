import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { AddressInfo } from 'node:net';
import next from 'next';
import { createHTTPHandler } from '@trpc/server/adapters/standalone';
import { appRouter, CommentService, EventHub, GitImport, GitPush, HistoryService, LanguageServers, LiveProjectFiles, MembershipCache, NetworkService, ProjectBlobs, ProjectSearch, SearchWorkers, type ProjectEvents, type Services, writeEventStream } from '@tandem/api';
import { AuthService } from '@tandem/auth';
import { openDatabase, PrismaDocumentStore, type Database } from '@tandem/db';
import { SyncServer, limitTreeEntries, mergeUpdates, type SyncExtension, type SyncLimits } from '@tandem/collab';
import { SYNC_PATH_PREFIX, TRPC_MAX_BATCH, type Role } from '@tandem/protocol';
import { authenticateSync } from './authenticateSync.ts';
import { handleProjectArchiveRequest, isProjectArchivePath } from './projectArchive.ts';
import { handleBinaryFileRequest, isBinaryFilePath } from './binaryFileRoute.ts';
import type { Env } from './env.ts';
import { createHttpContext } from './httpContext.ts';
import { PublicOrigin } from './PublicOrigin.ts';
import { BrowserGuard } from './BrowserGuard.ts';
import { ConnectionLimiter } from './ConnectionLimiter.ts';
import { applyContentSecurityPolicy, previewFrameSource } from './contentSecurityPolicy.ts';
import { ProjectDocumentCap } from './ProjectDocumentCap.ts';
import { createAiService } from './createAiService.ts';
import { SuggestionSyncHook, createSuggestions } from './createSuggestions.ts';
import { createSandboxes } from './createSandboxes.ts';
import { LiveFilesSyncHook } from './LiveFilesSyncHook.ts';
import { createAgent } from './createAgent.ts';
import { createCluster, defaultNodeUrl } from './cluster/createCluster.ts';
import { createSandboxNetwork } from './createSandboxNetwork.ts';
import { PreviewServer } from './preview/PreviewServer.ts';
import { PreviewForwarder } from './preview/PreviewForwarder.ts';
import { LanguageServerSocket } from './languageServerSocket.ts';

const TRPC_PREFIX = '/api/trpc/';
const EVENT_STREAM_PATH = `${TRPC_PREFIX}stream.events`;
const MAX_TRPC_BODY = 2 * 1024 * 1024;

/** The SyncServer limits the environment sets (the rest are collab's DEFAULT_LIMITS). */
export function syncLimitsFromEnv(env: Env): Partial<SyncLimits> {
  return {
    maxDocumentBytes: env.TANDEM_MAX_DOCUMENT_KB * 1024,
    // No single message can be larger than a whole document (plus the framing).
    maxMessageBytes: env.TANDEM_MAX_DOCUMENT_KB * 1024 + 64 * 1024,
    userUpdateBytesPerSecond: env.TANDEM_SYNC_USER_KB_PER_SECOND * 1024,
    userUpdateBurstBytes: env.TANDEM_SYNC_USER_BURST_KB * 1024,
  };
}

export interface TandemServer {
  url: string;
  db: Database;
  sync: SyncServer;
  languageServers: LanguageServers;
  /** The preview origin (null when sandboxes have no network): its port and URL template. */
  preview: { port: number; template: string } | null;
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
  const auth = new AuthService(db.prisma, {
    secret: env.secret,
    signUpsPerIpPerHour: env.TANDEM_SIGNUPS_PER_IP_PER_HOUR,
    signIn: { maxFailuresPerIp: env.TANDEM_SIGNIN_FAILURES_PER_IP },
    // With several nodes the counters are shared (Redis), so the limits hold for the deployment.
    ...(cluster ? { rateStore: cluster.rateStore } : {}),
  });
  const memberships = new MembershipCache();
  const store = new PrismaDocumentStore(db.prisma, { rawQuery: db.rawQuery, ...(cluster ? { mergeUpdates } : {}) });
  const suggestionHook = new SuggestionSyncHook();
  const filesHook = new LiveFilesSyncHook();
  // Language servers read the live documents from the SyncServer they observe: wired once both exist.
  let languageServers: LanguageServers | null = null;
  const languageHook: SyncExtension = { onChange: (p) => languageServers?.syncExtension.onChange?.(p) };
  const history = new HistoryService(db.prisma, { automaticCheckpointsKept: env.TANDEM_CHECKPOINTS_KEPT });
  const treeLimit = limitTreeEntries(env.TANDEM_MAX_FILES_PER_PROJECT);
  const sync = new SyncServer({
    // Author claims are stored before the changes that make them (README of packages/history).
    store: history.claimsFirst(store),
    ...(cluster ? { bus: cluster.documentBus } : {}),
    onAuthenticate: (p) => authenticateSync(db.prisma, auth, memberships, p),
    validateUpdate: (p) => {
      treeLimit(p);
      history.validateUpdate(p);
    },
    limits: syncLimitsFromEnv(env),
    extensions: [history.extension, new ProjectDocumentCap(db.prisma, env.TANDEM_MAX_DOCUMENTS_PER_PROJECT).extension, suggestionHook, filesHook, languageHook, ...(cluster ? [cluster.fileChanges] : [])],
  });
  // Every server-side change goes through history: its own client id, attributed (README of packages/history).
  const documents = history.over(sync);
  // One view of the live files for the sandbox, search and agent runs (it keeps decoded texts).
  const files = new LiveProjectFiles(documents);
  filesHook.files = files;
  history.readFilesFrom(files);
  const hub = new EventHub(cluster ? { bus: cluster.eventBus } : {});
  const forwardCancel = cluster ? (userId: string, requestId: string) => cluster.commands.broadcast('ai-cancel', { userId, requestId }) : undefined;
  const forwardSettingsChanged = cluster ? (projectId: string) => cluster.commands.broadcast('ai-settings-changed', { projectId }) : undefined;
  const services: Services = { hub, memberships, history, ai: createAiService(env, hub, { forwardCancel, forwardSettingsChanged, ...(cluster ? { rateStore: cluster.rateStore } : {}) }) };
  services.suggestions = await createSuggestions({ prisma: db.prisma, hub, sync: documents, hook: suggestionHook, perProject: cluster !== null });
  // Sandbox network + preview origin (README → Sandbox network and preview).
  let previewUrl = (projectId: string, port: number): string => `http://${projectId}-${port}.localhost`;
  let networkService: NetworkService | null = null;
  const net = await createSandboxNetwork(env, (projectId) => networkService?.projectAllowList(projectId) ?? Promise.resolve([]));
  if (net) {
    networkService = new NetworkService({
      prisma: db.prisma, network: net.network, defaults: net.defaults, ceiling: net.ceiling, secret: env.secret, hub,
      previewUrl: (projectId, port) => previewUrl(projectId, port),
    });
    services.network = networkService;
  }
  const blobs = new ProjectBlobs({
    prisma: db.prisma, documents, memberships, maxFilesPerProject: env.TANDEM_MAX_FILES_PER_PROJECT,
    retained: (projectId) => history.checkpoints?.binaryHashes(projectId) ?? Promise.resolve(new Set()),
    maxFileBytes: env.TANDEM_MAX_BINARY_FILE_KB * 1024, maxProjectBytes: env.TANDEM_MAX_BINARY_MB_PER_PROJECT * 1024 * 1024,
  });
  if (history.git) history.git.blobs = blobs;
  services.sandboxes = await createSandboxes(env, { prisma: db.prisma, hub, files, blobs, network: net?.network ?? null });
  const gitPolicy = {
    privateHosts: env.TANDEM_GIT_PRIVATE_HOSTS.split(',').map((h) => h.trim()).filter(Boolean),
    timeoutMs: env.TANDEM_GIT_TIMEOUT_SECONDS * 1000, maxFetchBytes: env.TANDEM_GIT_MAX_FETCH_MB * 1024 * 1024,
  };
  services.gitImport = new GitImport(documents, gitPolicy, env.TANDEM_MAX_FILES_PER_PROJECT);
  services.gitPush = new GitPush(db.prisma, () => history.git, gitPolicy, env.secret);
  services.comments = new CommentService(db.prisma, hub, cluster?.rateStore);
  // Two searches at once at most (2-core machines), project search and agents' alike; each stops after 5 s (see SearchWorkers).
  const searches = new SearchWorkers({ maxWorkers: 2, timeoutMs: 5000 });
  services.search = new ProjectSearch({ files, documents, workers: searches });
  services.agent = await createAgent({
    prisma: db.prisma, hub, sync: documents, files, searches, sandbox: services.sandboxes.host, perProject: cluster !== null,
    maxFilesPerProject: env.TANDEM_MAX_FILES_PER_PROJECT, acpAgents: env.acpAgents,
  });
  languageServers = new LanguageServers({
    host: services.sandboxes.host, workingCopy: services.sandboxes, files, prisma: db.prisma, memberships,
    limits: { maxServers: env.TANDEM_LSP_MAX_SERVERS, idleMs: env.TANDEM_LSP_IDLE_SECONDS * 1000 },
  });
  const lspSocket = new LanguageServerSocket({ auth, servers: languageServers });
  let nodeUrl = '';
  let nodePreviewUrl: string | null = null;
  const projectCalls = cluster?.attach({
    sync, hub, memberships, ai: services.ai, suggestions: services.suggestions, sandboxes: services.sandboxes, agent: services.agent,
    forgetDocuments: (projectId) => store.forget(projectId),
    filesChangedElsewhere: (projectId) => filesHook.changedElsewhere(projectId),
    revokeCredentials: (ids) => revokeCredentialsHere(ids),
    lostMessages: () => {
      // Invalidations may have been missed while Redis was unreachable: re-read everything.
      auth.forgetAllCredentials();
      memberships.clear();
      services.ai.settingsChangedHere(null);
    },
  }, () => nodeUrl, () => nodePreviewUrl);
  function revokeCredentialsHere(ids: string[]): void {
    for (const id of ids) auth.forgetCredential(id);
    languageServers?.revokeCredentials(ids);
    sync.revokeCredentials(ids);
    hub.revokeCredentials(ids);
  }
  const events: ProjectEvents = {
    accessChanged: (projectId: string, userId: string, role: Role | null) => {
      memberships.changed(projectId, userId);
      sync.setAccess(projectId, userId, role);
      if (role === null) services.hub.revoke(projectId, userId);
      if (role === null) languageServers?.revoke(projectId, userId);
      services.network?.forgetAccess(projectId, userId);
      cluster?.accessChanged(projectId, userId, role);
    },
    projectDeleted: (projectId: string) => {
      memberships.forgetProject(projectId);
      cluster?.projectDeleted(projectId);
      store.forget(projectId);
      services.network?.forgetAccess(projectId);
      services.suggestions?.forgetProject(projectId);
      services.search?.forget(projectId);
      languageServers?.forgetProject(projectId);
      services.agent?.forgetProject(projectId);
      services.sandboxes?.removeProject(projectId).catch((e: unknown) => console.error(`[sandbox] removing ${projectId} failed:`, e));
    },
    credentialsRevoked: (ids: string[]) => {
      revokeCredentialsHere(ids);
      cluster?.credentialsRevoked(ids);
    },
  };
  const trustedProxies = new Set((env.TANDEM_TRUSTED_PROXIES ?? '').split(',').map((s) => s.trim()).filter(Boolean));
  let nodeUrlForOrigin = '';
  const origin = new PublicOrigin(env.TANDEM_PUBLIC_URL, () => nodeUrlForOrigin);

  const httpContext = (req: IncomingMessage, res: ServerResponse) =>
    createHttpContext({ prisma: db.prisma, auth, events, services, secureCookies: env.COOKIE_SECURE === 'true', origin, trustedProxies }, req, res);
  const trpc = createHTTPHandler({
    router: appRouter,
    basePath: TRPC_PREFIX,
    maxBodySize: MAX_TRPC_BODY,
    // One HTTP request must not carry hundreds of calls (each may cost a database query or a hash).
    maxBatchSize: TRPC_MAX_BATCH,
    createContext: ({ req, res }) => httpContext(req, res),
  });
  // `stream.events` (every tab's live stream) gets a writer that encodes each event once for all
  // its subscribers; it speaks tRPC's SSE format, so the browser's httpSubscriptionLink is unchanged.
  const eventStream = (req: IncomingMessage, res: ServerResponse, url: URL) => {
    const abort = new AbortController();
    res.on('close', () => abort.abort());
    return httpContext(req, res).then((ctx) =>
      writeEventStream({
        ctx,
        rawInput: url.searchParams.get('input'),
        lastEventId: (req.headers['last-event-id'] as string | undefined) ?? url.searchParams.get('lastEventId') ?? url.searchParams.get('Last-Event-Id'),
        res,
        signal: abort.signal,
      }),
    );
  };

  let web: ReturnType<typeof next> | null = null;
  if (opts.withWeb !== false) {
    web = next({ dev: env.dev, dir: env.webDir, hostname: 'localhost', port: env.PORT });
    await web.prepare();
  }
  const webHandler = web?.getRequestHandler();
  const webUpgrade = web?.getUpgradeHandler();

  const guard = new BrowserGuard(env.TANDEM_PUBLIC_URL);
  // Set once the preview origin listens; pages then allow framing exactly the preview origins (CSP).
  let previewInfo: TandemServer['preview'] = null;
  const server: Server = createServer({
    // Slowloris: a client gets this long to send its headers / whole request, checked every second.
    headersTimeout: env.TANDEM_HTTP_HEADERS_TIMEOUT_MS,
    requestTimeout: Math.max(env.TANDEM_HTTP_REQUEST_TIMEOUT_MS, env.TANDEM_HTTP_HEADERS_TIMEOUT_MS),
    connectionsCheckingInterval: Math.min(1000, env.TANDEM_HTTP_HEADERS_TIMEOUT_MS),
  }, (req: IncomingMessage, res: ServerResponse) => {
    res.setHeader('X-Content-Type-Options', 'nosniff');
    res.setHeader('Referrer-Policy', 'same-origin');
    res.setHeader('X-Frame-Options', 'DENY');
    const path = req.url ?? '/';
    if (path.startsWith(TRPC_PREFIX) && !guard.admitApiRequest(req, res)) return;
    if (path.startsWith(EVENT_STREAM_PATH) && req.method === 'GET') {
      const url = new URL(path, 'http://x');
      if (url.pathname === EVENT_STREAM_PATH) {
        return void eventStream(req, res, url).catch((e: unknown) => {
          console.error('[stream] serving stream.events failed:', e);
          if (!res.headersSent) res.writeHead(500).end();
          else res.destroy();
        });
      }
    }
    if (path.startsWith(TRPC_PREFIX) && projectCalls) {
      return void projectCalls.handle(req, res, trpc).catch((e: unknown) => {
        console.error('[cluster] routing a project call failed:', e);
        if (!res.headersSent) res.writeHead(500).end();
      });
    }
    if (path.startsWith(TRPC_PREFIX)) return void trpc(req, res);
    if (isProjectArchivePath(path) && !guard.admitArchiveRequest(req, res)) return;
    if (isProjectArchivePath(path)) return void handleProjectArchiveRequest({ prisma: db.prisma, auth, sync, blobs, maxFilesPerProject: env.TANDEM_MAX_FILES_PER_PROJECT, ...(services.gitImport ? { gitImport: services.gitImport } : {}) }, req, res);
    if (isBinaryFilePath(path) && !guard.admitArchiveRequest(req, res)) return;
    if (isBinaryFilePath(path)) return void handleBinaryFileRequest({ auth, blobs }, req, res);
    if (path === '/api/health') return void res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
    if (webHandler) {
      if (!env.dev) applyContentSecurityPolicy(req, res, previewInfo ? previewFrameSource(previewInfo.template) : null);
      return void webHandler(req, res);
    }
    res.writeHead(404).end();
  });

  new ConnectionLimiter(env.TANDEM_MAX_CONNECTIONS_PER_IP).attach(server);
  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    if (req.url?.startsWith(SYNC_PATH_PREFIX)) {
      // A page on another origin (even another port of this host) must not sync with the user's cookie.
      guard.stripForeignCookie(req);
      return sync.handleUpgrade(req, socket, head);
    }
    if (LanguageServerSocket.matches(req.url)) {
      guard.stripForeignCookie(req);
      return void lspSocket.handleUpgrade(req, socket, head).catch(() => socket.destroy());
    }
    if (webUpgrade && env.dev) return void webUpgrade(req, socket, head);
    socket.destroy();
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(env.PORT, env.HOST, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const url = `http://localhost:${port}`;
  nodeUrlForOrigin = url;
  let preview: PreviewServer | null = null;
  if (net && networkService) {
    net.network.proxy.denyPort(port);
    preview = new PreviewServer({
      port: env.TANDEM_PREVIEW_PORT ?? (env.PORT === 0 ? 0 : env.PORT + 1), host: env.HOST,
      networkService, network: net.network, secureCookies: env.COOKIE_SECURE === 'true',
      ...(cluster ? { forwarder: new PreviewForwarder({ nodeId: cluster.nodeId, secret: env.secret, remoteHome: (p) => cluster.remotePreviewHome(p) }) } : {}),
    });
    const previewPort = await preview.listen().catch(async (e: unknown) => {
      server.close();
      throw new Error(`the preview port could not be opened (${(e as Error).message}); set TANDEM_PREVIEW_PORT`);
    });
    net.network.proxy.denyPort(previewPort);
    const template = env.TANDEM_PREVIEW_URL ?? `http://{id}.localhost:${previewPort}`;
    previewUrl = (projectId, p) => template.replace('{id}', `${projectId}-${p}`);
    previewInfo = { port: previewPort, template };
    console.info(`[preview] previews are served at ${template} (port ${previewPort})`);
  }
  nodeUrl = defaultNodeUrl(env, port);
  if (previewInfo) {
    const u = new URL(nodeUrl);
    u.port = String(previewInfo.port);
    nodePreviewUrl = u.origin;
  }

  let closing: Promise<void> | null = null;
  return {
    url,
    db,
    sync,
    languageServers,
    preview: previewInfo,
    close() {
      closing ??= (async () => {
        await services.suggestions?.close(); // stops generations; each records its end while documents and database are up
        await services.agent?.close(); // aborts agent runs (they record how far they got)
        lspSocket.close();
        await languageServers?.close();
        await services.sandboxes?.close(); // kills runs and terminals (recording how runs ended), removes cgroups
        await preview?.close();
        net?.network.close();
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
