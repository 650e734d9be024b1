import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { DocumentStore } from '../DocumentStore.ts';
import { MemoryDocumentStore } from '../MemoryDocumentStore.ts';
import { SyncServer, type SyncServerOptions } from '../SyncServer.ts';
import { RecordingLogger } from './RecordingLogger.ts';
import { TestMembership } from './TestMembership.ts';

export interface TestServer {
  sync: SyncServer;
  store: DocumentStore;
  membership: TestMembership;
  logger: RecordingLogger;
  /** Base URL for WebsocketProvider: `ws://127.0.0.1:<port>/sync`. */
  url: string;
  /** Graceful SyncServer close, then the HTTP server. */
  close(): Promise<void>;
}

/** The app-shaped host: an HTTP server on port 0 that routes upgrades to the SyncServer. */
export async function startTestServer(
  overrides: Partial<SyncServerOptions> & { membership?: TestMembership } = {},
): Promise<TestServer> {
  const membership = overrides.membership ?? defaultMembership();
  const logger = new RecordingLogger();
  const store = overrides.store ?? new MemoryDocumentStore();
  const sync = new SyncServer({ onAuthenticate: membership.authenticate, logger, ...overrides, store });
  const http = createServer((_req, res) => res.writeHead(404).end());
  http.on('upgrade', (req, socket, head) => sync.handleUpgrade(req, socket, head));
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  const { port } = http.address() as AddressInfo;
  return {
    sync,
    store,
    membership,
    logger,
    url: `ws://127.0.0.1:${port}/sync`,
    close: async () => {
      await sync.close();
      await closeHttp(http);
    },
  };
}

/** alice and bob edit project p1, victor views it; nobody is in p2 except carol. */
export function defaultMembership(): TestMembership {
  return new TestMembership()
    .addUser('alice-token', { id: 'alice', name: 'Alice' })
    .addUser('bob-token', { id: 'bob', name: 'Bob' })
    .addUser('victor-token', { id: 'victor', name: 'Victor' })
    .addUser('carol-token', { id: 'carol', name: 'Carol' })
    .setRole('p1', 'alice', 'owner')
    .setRole('p1', 'bob', 'editor')
    .setRole('p1', 'victor', 'viewer')
    .setRole('p2', 'carol', 'owner');
}

function closeHttp(http: Server): Promise<void> {
  http.closeAllConnections();
  return new Promise((resolve) => http.close(() => resolve()));
}
