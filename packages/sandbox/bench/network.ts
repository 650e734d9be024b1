/**
 * Sandbox network costs (part of `bench -- sandbox`): run start-up with and without the network
 * helper; diagnostic only, the preview path's sandbox part (host → per-session channel → in-sandbox
 * helper → app, a new stream per request; the shipped path through the real server is measured by
 * bench/sandbox/preview.ts) against the same
 * app reached directly on the host loopback, per HTTP request (p50/p99) and per WebSocket echo; and
 * download throughput through the egress proxy against a direct download of the same files.
 * Run: `npm run bench:network -w @tandem/sandbox` (as root, with bubblewrap).
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer, request, type Server } from 'node:http';
import { connect, type AddressInfo, type Socket } from 'node:net';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { createTestHost, runAndCollect } from '../src/createTestHost.ts';
import { parseAllowList } from '../src/net/EgressAllowlist.ts';
import { EgressProxy } from '../src/net/EgressProxy.ts';
import { SandboxNetwork } from '../src/net/SandboxNetwork.ts';

const REQUESTS = Number(process.env.NET_BENCH_REQUESTS ?? 400);
const BLOBS = 16;
const BLOB_BYTES = 2 * 1024 * 1024;

const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * p))]!;
const fmt = (ms: number) => `${ms.toFixed(2)} ms`;

/** An HTTP GET over `open()`ed sockets, one connection per request (as the preview proxy does). */
function get(open: () => Promise<Socket>): Promise<void> {
  return open().then((socket) => new Promise<void>((resolve, reject) => {
    const req = request({ path: '/x', headers: { host: 'localhost' }, createConnection: () => socket }, (res) => {
      res.resume();
      res.on('end', () => resolve());
    });
    req.on('error', reject);
    req.end();
  }));
}

/** Raw WebSocket client frames (masked) and a round-trip timer over one open socket. */
async function wsEcho(socket: Socket, n: number): Promise<number[]> {
  socket.write('GET /ws HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n');
  let buf = Buffer.alloc(0);
  let waiting: (() => void) | null = null;
  let upgraded = false;
  socket.on('data', (d: Buffer) => {
    buf = Buffer.concat([buf, d]);
    if (!upgraded) {
      const i = buf.indexOf('\r\n\r\n');
      if (i < 0) return;
      upgraded = true;
      buf = buf.subarray(i + 4);
    }
    if (buf.length >= 2 && buf.length >= 2 + (buf[1]! & 127)) {
      buf = buf.subarray(2 + (buf[1]! & 127));
      waiting?.();
    }
  });
  await new Promise<void>((r) => {
    const t = setInterval(() => upgraded && (clearInterval(t), r()), 1);
  });
  const times: number[] = [];
  const payload = Buffer.from('hot update {"path":"/src/App.tsx"}');
  for (let i = 0; i < n; i++) {
    const mask = randomBytes(4);
    const masked = Buffer.from(payload.map((b, j) => b ^ mask[j % 4]!));
    const t0 = performance.now();
    await new Promise<void>((r) => {
      waiting = r;
      socket.write(Buffer.concat([Buffer.from([0x81, 0x80 | payload.length]), mask, masked]));
    });
    times.push(performance.now() - t0);
  }
  socket.destroy();
  return times;
}

const APP = String.raw`
const http = require('http'), crypto = require('crypto');
const s = http.createServer((q, r) => r.end('ok'));
s.on('upgrade', (q, sock) => {
  const k = crypto.createHash('sha1').update(q.headers['sec-websocket-key'] + '258EAFA5-E914-47DA-95CA-C5AB0DC85B11').digest('base64');
  sock.write('HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ' + k + '\r\n\r\n');
  sock.setNoDelay(true);
  sock.on('data', (b) => { const len = b[1] & 127, m = b.subarray(2, 6), p = Buffer.alloc(len); for (let i = 0; i < len; i++) p[i] = b[6 + i] ^ m[i % 4]; sock.write(Buffer.concat([Buffer.from([0x81, len]), p])); });
});
s.listen(Number(process.argv[process.argv.length - 1]), '127.0.0.1', () => console.log('ready'));
`;

async function main(): Promise<void> {
  console.log(`sandbox network benchmark — load average ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
  const blobs = Array.from({ length: BLOBS }, () => randomBytes(BLOB_BYTES));
  const files: Server = createServer((req, res) => {
    const i = Number(/^\/blob\/(\d+)$/.exec(req.url ?? '')?.[1] ?? -1);
    if (!blobs[i]) return void res.writeHead(404).end();
    res.writeHead(200, { 'content-length': BLOB_BYTES }).end(blobs[i]);
  });
  await new Promise<void>((r) => files.listen(0, '127.0.0.1', () => r()));
  const filesPort = (files.address() as AddressInfo).port;
  const proxy = new EgressProxy({
    allow: parseAllowList([`files.test:${filesPort}`]), deniedPorts: [],
    resolve: async () => [{ address: '127.0.0.1', family: 4 }],
    testOnlyPrivateEndpoints: [{ host: 'files.test', address: '127.0.0.1', port: filesPort }],
  });
  const socketDir = mkdtempSync(join(tmpdir(), 'tandem-netb-'));
  chmodSync(socketDir, 0o711);
  const network = new SandboxNetwork({ socketDir, proxy });
  const plain = createTestHost({ cgroupName: 'tandem-sandbox-bench' });
  const t = createTestHost({ cgroupName: 'tandem-sandbox-bench-net', network, limits: { runTimeoutMs: 300_000 } });
  try {
    // 1. Start-up: `true` with and without the network helper.
    for (const [label, host] of [['without network', plain.host], ['with network helper', t.host]] as const) {
      await host.syncWorkingCopy('start', [{ path: 'a.txt', content: '' }]);
      const xs: number[] = [];
      for (let i = 0; i < 11; i++) {
        const t0 = performance.now();
        const { result } = await runAndCollect(host, 'start', 'true');
        if (result.exitCode !== 0) throw new Error('start-up run failed');
        xs.push(performance.now() - t0);
      }
      console.log(`run start-up (\`true\`, ${label}): median ${fmt(pct(xs, 0.5))}`);
    }

    // 2. Preview path vs direct: the same app, once in a sandbox terminal, once on the host.
    await t.host.syncWorkingCopy('bench', [{ path: 'app.js', content: APP }]);
    const term = await t.host.openTerminal('bench', { cols: 80, rows: 24 });
    term.write('node app.js 8000\n');
    const directPort = 18000 + Math.floor(Math.random() * 1000);
    const direct = spawn(process.execPath, ['-e', APP, String(directPort)], { stdio: ['ignore', 'pipe', 'inherit'] });
    await new Promise<void>((r) => direct.stdout!.once('data', () => r()));
    const deadline = Date.now() + 30_000;
    while (!(await network.listeningPorts('bench')).some((p) => p.port === 8000)) {
      if (Date.now() > deadline) throw new Error('the sandboxed app did not start');
      await new Promise((r) => setTimeout(r, 100));
    }
    const viaSandbox = () => network.openPort('bench', 8000);
    const viaDirect = () => new Promise<Socket>((resolve, reject) => {
      const s = connect(directPort, '127.0.0.1', () => resolve(s));
      s.once('error', reject);
    });
    for (const [label, open] of [['direct (host loopback)', viaDirect], ['DIAGNOSTIC: the preview channel + helper alone (no server, no HTTP proxying; see the preview table above for the shipped path)', viaSandbox]] as const) {
      for (let i = 0; i < 30; i++) await get(open); // warm-up
      const xs: number[] = [];
      for (let i = 0; i < REQUESTS; i++) {
        const t0 = performance.now();
        await get(open);
        xs.push(performance.now() - t0);
      }
      const ws = await wsEcho(await open(), REQUESTS);
      console.log(`HTTP GET, new connection each, ${label}: p50 ${fmt(pct(xs, 0.5))}, p99 ${fmt(pct(xs, 0.99))}; WebSocket echo p50 ${fmt(pct(ws, 0.5))}, p99 ${fmt(pct(ws, 0.99))}`);
    }
    direct.kill();
    term.kill();
    await term.closed;

    // 3. Throughput: the same 16 × 2 MiB files through the egress proxy vs directly on the host.
    await t.host.syncWorkingCopy('dl', [{ path: 'a.txt', content: '' }]);
    const list = Array.from({ length: BLOBS }, (_, i) => `http://files.test:${filesPort}/blob/${i}`);
    const total = (BLOBS * BLOB_BYTES) / 1024 / 1024;
    let t0 = performance.now();
    const { result, output } = await runAndCollect(t.host, 'dl', `for u in ${list.join(' ')}; do curl -sf -o /dev/null "$u" || echo FAIL; done`);
    const proxied = performance.now() - t0;
    if (result.exitCode !== 0 || output.includes('FAIL')) throw new Error(`proxied download failed: ${output}`);
    t0 = performance.now();
    // Async: the file server lives in this process.
    await new Promise<void>((resolve, reject) => {
      const c = spawn('sh', ['-c', `for u in ${list.map((u) => u.replace('files.test', '127.0.0.1')).join(' ')}; do curl -sf --noproxy '*' -o /dev/null "$u" || exit 1; done`], { stdio: 'inherit' });
      c.on('exit', (code) => (code === 0 ? resolve() : reject(new Error('direct download failed'))));
    });
    const directMs = performance.now() - t0;
    console.log(`download ${total} MiB (${BLOBS} files, curl): through the egress proxy from a sandbox ${proxied.toFixed(0)} ms (${(total / (proxied / 1000)).toFixed(0)} MiB/s, incl. run start-up); direct on the host ${directMs.toFixed(0)} ms (${(total / (directMs / 1000)).toFixed(0)} MiB/s)`);
  } finally {
    await t.cleanup();
    await plain.cleanup();
    network.close();
    files.close();
    rmSync(socketDir, { recursive: true, force: true });
  }
}

await main();
