/**
 * One sync server under test, in its own process (pinned to its own core by sync.ts). Prints one
 * JSON line: the sync URL, the wire protocol, and a control URL whose /cpu reports this
 * process's CPU time, so the load generator can measure server CPU over its window.
 *
 * usage: serverProcess.ts <tandem|y-websocket-server|hocuspocus> <dataDirectory>
 */
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { open } from 'node:fs/promises';
import { join } from 'node:path';
import * as Y from 'yjs';
import { WebSocketServer } from 'ws';
import { AppError } from '@tandem/protocol';
import { FileDocumentStore, SyncServer } from '@tandem/collab';
import { setupWSConnection } from '@y/websocket-server/utils';
import { Server as HocuspocusServer } from '@hocuspocus/server';

export type ServerKind = 'tandem' | 'y-websocket-server' | 'hocuspocus';

const kind = process.argv[2] as ServerKind;
const dataDirectory = process.argv[3] ?? '/tmp';

function tokenOf(request: IncomingMessage): string | null {
  return new URL(request.url ?? '/', 'http://localhost').searchParams.get('token');
}

async function startControl(): Promise<string> {
  const control = createServer((_req, res) => {
    const { user, system } = process.cpuUsage();
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ cpuMicros: user + system }));
  });
  await new Promise<void>((resolve) => control.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(control.address() as AddressInfo).port}/cpu`;
}

/** Tandem: auth hook + durable append log (FileDocumentStore, fdatasync per group commit). */
async function startTandem(): Promise<string> {
  const sync = new SyncServer({
    store: new FileDocumentStore(dataDirectory, { fsync: process.env.BENCH_FSYNC !== '0' }),
    onAuthenticate: ({ request }) => {
      const token = tokenOf(request);
      if (!token?.startsWith('bench-')) throw new AppError('UNAUTHENTICATED', 'Sign in.');
      return { user: { id: token, name: token }, role: 'editor' };
    },
  });
  return listenWithUpgrade((req, socket, head) => sync.handleUpgrade(req, socket, head), '/sync');
}

/** The reference server: in memory, no auth, no persistence. */
async function startYWebsocketServer(): Promise<string> {
  const wss = new WebSocketServer({ noServer: true });
  return listenWithUpgrade((req, socket, head) => {
    const docName = decodeURIComponent((req.url ?? '/').split('?')[0]!.replace(/^\/sync\//, ''));
    wss.handleUpgrade(req, socket, head, (ws) => setupWSConnection(ws, req, { docName }));
  }, '/sync');
}

/** Hocuspocus with an auth hook and its own persistence model: debounced full-state snapshots. */
async function startHocuspocus(): Promise<string> {
  const server = new HocuspocusServer({
    port: 0,
    address: '127.0.0.1',
    quiet: true,
    async onAuthenticate({ token }) {
      if (!token.startsWith('bench-')) throw new Error('unauthenticated');
    },
    async onStoreDocument({ documentName, document }) {
      const handle = await open(join(dataDirectory, `${encodeURIComponent(documentName)}.snapshot`), 'w');
      await handle.writeFile(Y.encodeStateAsUpdate(document));
      await handle.datasync();
      await handle.close();
    },
  });
  await server.listen();
  return `ws://127.0.0.1:${(server.httpServer.address() as AddressInfo).port}`;
}

async function listenWithUpgrade(onUpgrade: (req: IncomingMessage, socket: Duplex, head: Buffer) => void, path: string): Promise<string> {
  const http = createServer((_req, res) => res.writeHead(404).end());
  http.on('upgrade', onUpgrade);
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  return `ws://127.0.0.1:${(http.address() as AddressInfo).port}${path}`;
}

const starters: Record<ServerKind, () => Promise<string>> = {
  tandem: startTandem,
  'y-websocket-server': startYWebsocketServer,
  hocuspocus: startHocuspocus,
};

const start = starters[kind];
if (!start) {
  console.error(`unknown server kind ${kind}`);
  process.exit(2);
}
const controlUrl = await startControl();
const syncUrl = await start();
process.stdout.write(`${JSON.stringify({ syncUrl, controlUrl, protocol: kind === 'hocuspocus' ? 'hocuspocus' : 'y-websocket' })}\n`);
// Exit normally on SIGTERM so `node --cpu-prof` can write its profile when profiling a server.
process.on('SIGTERM', () => process.exit(0));
