/**
 * One sync server under test, in its own process (pinned to its own core by the orchestrator).
 * Prints one JSON line (`AnnouncedServer`): the sync URL, the wire protocol, the document-name
 * prefix and session cookies the clients must use, and a control URL whose /cpu reports the
 * server's CPU time, so the load generator can measure server CPU over its window.
 *
 * The Tandem kinds run the real server process (`apps/server` `main.ts --no-web`, what `npm start`
 * runs minus the web pages) as a child of this one: `tandem` with the default embedded database
 * (PGlite), `tandem-postgres` on a fresh PostgreSQL database. Their /cpu is the child's CPU
 * (PostgreSQL's own processes are not counted). `tandem-filestore` is diagnostic only: the
 * `SyncServer` library with the development `FileDocumentStore`, which the product never ships.
 *
 * usage: serverProcess.ts <ServerKind> <dataDirectory>
 */
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { WebSocketServer } from 'ws';
import { AppError } from '@tandem/protocol';
import { FileDocumentStore, SyncServer } from '@tandem/collab';
import { setupWSConnection } from '@y/websocket-server/utils';
import { Server as HocuspocusServer } from '@hocuspocus/server';
import { SQLite } from '@hocuspocus/extension-sqlite';
import { TandemNodes, setUpProject } from '../load/TandemNodes.ts';
import type { AnnouncedServer, ServerKind } from './servers.ts';

const kind = process.argv[2] as ServerKind;
const dataDirectory = process.argv[3] ?? '/tmp';
/** Users signed up on a Tandem server (64 connections per user are allowed). */
const TANDEM_USERS = 4;

function tokenOf(request: IncomingMessage): string | null {
  return new URL(request.url ?? '/', 'http://localhost').searchParams.get('token');
}

/** CPU seconds of `pid` from /proc (user + system, all threads), or of this process. */
function cpuMicros(pid: number | null): number {
  if (pid === null) {
    const { user, system } = process.cpuUsage();
    return user + system;
  }
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // Fields 14 and 15 (utime, stime) in clock ticks (100 Hz on Linux).
  return ((Number(fields[11]) + Number(fields[12])) * 1e6) / 100;
}

async function startControl(pid: () => number | null): Promise<string> {
  const control = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ cpuMicros: cpuMicros(pid()) }));
  });
  await new Promise<void>((resolve) => control.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(control.address() as AddressInfo).port}/cpu`;
}

type Started = Omit<AnnouncedServer, 'controlUrl'> & { pid: number | null };

/** The real Tandem server process; this process only starts it, signs users up and reports its CPU. */
async function startTandemApp(postgres: boolean): Promise<Started> {
  // Children inherit this process's CPU affinity (taskset).
  const nodes = postgres ? await TandemNodes.start(1, null) : await TandemNodes.startEmbedded(null);
  const stop = () => void nodes.stop().finally(() => process.exit(0));
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
  const node = nodes.nodes[0]!;
  const { projectId, cookies } = await setUpProject(node.url, TANDEM_USERS);
  return { syncUrl: `${node.url.replace(/^http/, 'ws')}/sync`, protocol: 'y-websocket', documentPrefix: `${projectId}/file/`, cookies, pid: node.pid };
}

/** Diagnostic: the SyncServer library with the development file store (O_DSYNC append log). */
async function startFileStore(): Promise<Started> {
  const sync = new SyncServer({
    store: new FileDocumentStore(dataDirectory, { fsync: process.env.BENCH_FSYNC !== '0' }),
    onAuthenticate: ({ request }) => {
      const token = tokenOf(request);
      if (!token?.startsWith('bench-')) throw new AppError('UNAUTHENTICATED', 'Sign in.');
      return { user: { id: token, name: token }, role: 'editor' };
    },
  });
  const syncUrl = await listenWithUpgrade((req, socket, head) => sync.handleUpgrade(req, socket, head), '/sync');
  return { syncUrl, protocol: 'y-websocket', documentPrefix: 'bench/file/', cookies: null, pid: null };
}

/** The reference server: in memory, no auth, no persistence. */
async function startYWebsocketServer(): Promise<Started> {
  const wss = new WebSocketServer({ noServer: true });
  const syncUrl = await listenWithUpgrade((req, socket, head) => {
    const docName = decodeURIComponent((req.url ?? '/').split('?')[0]!.replace(/^\/sync\//, ''));
    wss.handleUpgrade(req, socket, head, (ws) => setupWSConnection(ws, req, { docName }));
  }, '/sync');
  return { syncUrl, protocol: 'y-websocket', documentPrefix: 'bench/file/', cookies: null, pid: null };
}

/** Hocuspocus with an auth hook; with `sqlite`, its durable SQLite extension. */
async function startHocuspocus(sqlite: boolean): Promise<Started> {
  const server = new HocuspocusServer({
    port: 0,
    address: '127.0.0.1',
    quiet: true,
    extensions: sqlite ? [new SQLite({ database: join(dataDirectory, 'hocuspocus.sqlite') })] : [],
    async onAuthenticate({ token }) {
      if (!token.startsWith('bench-')) throw new Error('unauthenticated');
    },
  });
  await server.listen();
  const syncUrl = `ws://127.0.0.1:${(server.httpServer.address() as AddressInfo).port}`;
  return { syncUrl, protocol: 'hocuspocus', documentPrefix: 'bench/file/', cookies: null, pid: null };
}

async function listenWithUpgrade(onUpgrade: (req: IncomingMessage, socket: Duplex, head: Buffer) => void, path: string): Promise<string> {
  const http = createServer((_req, res) => res.writeHead(404).end());
  http.on('upgrade', onUpgrade);
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  return `ws://127.0.0.1:${(http.address() as AddressInfo).port}${path}`;
}

const starters: Record<ServerKind, () => Promise<Started>> = {
  tandem: () => startTandemApp(false),
  'tandem-postgres': () => startTandemApp(true),
  'tandem-filestore': startFileStore,
  'y-websocket-server': startYWebsocketServer,
  hocuspocus: () => startHocuspocus(false),
  'hocuspocus-sqlite': () => startHocuspocus(true),
};

const start = starters[kind];
if (!start) {
  console.error(`unknown server kind ${kind}`);
  process.exit(2);
}
// Exit normally on SIGTERM so `node --cpu-prof` can write its profile when profiling a server
// (the Tandem kinds stop their child process first, in startTandemApp).
if (kind !== 'tandem' && kind !== 'tandem-postgres') process.once('SIGTERM', () => process.exit(0));
let serverPid: number | null = null;
const controlUrl = await startControl(() => serverPid);
const { pid, ...announced } = await start();
serverPid = pid;
process.stdout.write(`${JSON.stringify({ ...announced, controlUrl } satisfies AnnouncedServer)}\n`);
