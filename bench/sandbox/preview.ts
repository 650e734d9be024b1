/**
 * `bench -- sandbox`, preview part: what the preview origin of the real server adds. The server
 * process as `npm start` runs it (`apps/server` `main.ts --no-web`, default embedded store, its
 * sandbox and preview port defaults); over the API a user signs up, creates a project, opens a
 * shared terminal and starts a small HTTP + WebSocket echo program in it, then signs in to the
 * preview origin with a member's ticket (the preview cookie, as the browser gets it). The same
 * program also runs on the host loopback, reached without Tandem: the direct peer. Requests
 * alternate between the two, so both see the same machine load.
 */
import { spawn } from 'node:child_process';
import { Agent, request } from 'node:http';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import WebSocket from 'ws';
import { PREVIEW_APP_SOURCE, previewAppCommand } from '@tandem/sandbox/testing';
import { TandemNodes, setUpProject } from '../load/TandemNodes.ts';
import { trpcCall, trpcQuery } from '../session.ts';

/**
 * Samples per peer and measure. A p99 is the 1%-worst: with 1000 samples that was the 10th worst,
 * moved by one or two stalls; with 3000, the 30th.
 */
const REQUESTS = Number(process.env.PREVIEW_BENCH_REQUESTS ?? 3000);
const WARM_UP = 50;
const APP_PORT = 8000;
const TARGET_ADDED_P99_MS = 2;

interface Peer {
  label: string;
  port: number;
  /** Host header (the preview origin routes on it). */
  host: string;
  cookie?: string;
}

const quantile = (xs: number[], q: number): number => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(q * xs.length))]!;

function get(peer: Peer, agent: Agent | false): Promise<void> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port: peer.port, path: '/x', agent, headers: { host: peer.host, ...(peer.cookie ? { cookie: peer.cookie } : {}) } }, (res) => {
      if (res.statusCode !== 200) reject(new Error(`${peer.label}: HTTP ${res.statusCode}`));
      res.resume();
      res.on('end', () => resolve());
    });
    req.on('error', reject);
    req.end();
  });
}

async function openSocket(peer: Peer): Promise<WebSocket> {
  const ws = new WebSocket(`ws://127.0.0.1:${peer.port}/hmr`, { headers: { host: peer.host, ...(peer.cookie ? { cookie: peer.cookie } : {}) } });
  await new Promise((resolve, reject) => {
    ws.once('open', resolve);
    ws.once('error', reject);
  });
  return ws;
}

function echo(ws: WebSocket, message: string): Promise<void> {
  return new Promise((resolve) => {
    ws.once('message', () => resolve());
    ws.send(message);
  });
}

/** Times `op` on both peers, alternating which goes first; warm-up rounds are dropped. */
async function alternate(peers: [Peer, Peer], op: (peer: Peer, i: number) => Promise<void>): Promise<[number[], number[]]> {
  const out: [number[], number[]] = [[], []];
  for (let i = 0; i < WARM_UP + REQUESTS; i++) {
    for (const k of i % 2 ? [1, 0] : [0, 1]) {
      const t0 = performance.now();
      await op(peers[k]!, i);
      if (i >= WARM_UP) out[k]!.push(performance.now() - t0);
    }
  }
  return out;
}

async function poll<T>(what: string, f: () => Promise<T | null>, timeoutMs = 60_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await f();
    if (v !== null) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

export async function runSandboxPreviewBenchmark(): Promise<void> {
  console.log('\n## sandbox: preview through the real server (npm start defaults, embedded store) vs the same program reached directly');
  console.log(`load average before: ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
  const nodes = await TandemNodes.startEmbedded(null);
  // The same program the preview tests use (HTTP that echoes the request, WebSocket echo).
  const appDir = mkdtempSync(join(tmpdir(), 'tandem-preview-bench-'));
  writeFileSync(join(appDir, 'app.js'), PREVIEW_APP_SOURCE);
  const directPort = 18_000 + Math.floor(Math.random() * 1000);
  const direct = spawn(process.execPath, [join(appDir, 'app.js'), String(directPort)], { stdio: ['ignore', 'pipe', 'inherit'] });
  try {
    const base = nodes.nodes[0]!.url;
    await new Promise<void>((r) => direct.stdout!.once('data', () => r()));
    const { projectId, cookies: [cookie] } = await setUpProject(base, 1);
    const term = await trpcCall<{ id: string }>(base, cookie!, 'sandbox.terminals.open', { projectId, cols: 120, rows: 30 });
    await trpcCall(base, cookie!, 'sandbox.terminals.write', { projectId, terminalId: term.id, data: `${previewAppCommand(APP_PORT)}\n` });
    const previewUrl = await poll('the sandboxed program to listen', async () => {
      const { previews } = await trpcQuery<{ previews: { port: number; url: string }[] }>(base, cookie!, 'network.previews', { projectId });
      return previews.find((p) => p.port === APP_PORT)?.url ?? null;
    });
    // The member's ticket, exchanged at the preview origin for its cookie (what the Preview pane does).
    const ticket = new URL((await trpcCall<{ url: string }>(base, cookie!, 'network.previewTicket', { projectId, port: APP_PORT })).url);
    const previewPort = Number(new URL(previewUrl).port);
    const previewHost = new URL(previewUrl).host;
    const previewCookie = await new Promise<string>((resolve, reject) => {
      request({ host: '127.0.0.1', port: previewPort, path: `${ticket.pathname}${ticket.search}`, headers: { host: previewHost } }, (res) => {
        res.resume();
        const set = res.headers['set-cookie']?.[0];
        if (res.statusCode !== 302 || !set) reject(new Error(`preview sign-in failed: ${res.statusCode}`));
        else resolve(set.split(';')[0]!);
      }).on('error', reject).end();
    });
    const peers: [Peer, Peer] = [
      { label: 'direct', port: directPort, host: `localhost:${directPort}` },
      { label: 'preview', port: previewPort, host: previewHost, cookie: previewCookie },
    ];
    console.log(`preview origin ${previewUrl} (member's preview cookie); direct peer: the same echo program on the host loopback, port ${directPort}; n=${REQUESTS} each after ${WARM_UP} warm-up, alternating`);

    const rows: { measure: string; d: number[]; p: number[] }[] = [];
    const agents = [new Agent({ keepAlive: true, maxSockets: 1 }), new Agent({ keepAlive: true, maxSockets: 1 })];
    const [dk, pk] = await alternate(peers, (peer) => get(peer, agents[peer === peers[0] ? 0 : 1]!));
    rows.push({ measure: 'HTTP GET, keep-alive connection (as a browser)', d: dk, p: pk });
    const [dn, pn] = await alternate(peers, (peer) => get(peer, false));
    rows.push({ measure: 'HTTP GET, new connection each', d: dn, p: pn });
    const sockets = await Promise.all(peers.map(openSocket));
    const [dw, pw] = await alternate(peers, (peer, i) => echo(sockets[peer === peers[0] ? 0 : 1]!, `hot update ${i} {"path":"/src/App.tsx"}`));
    rows.push({ measure: 'WebSocket message round trip', d: dw, p: pw });
    for (const s of sockets) s.close();
    for (const a of agents) a.destroy();

    const f = (ms: number) => ms.toFixed(2);
    console.log('\n| measure | direct p50 / p99 ms | through Tandem\'s preview p50 / p99 ms | added p50 | added p99 | target (added p99) |');
    console.log('|---|---|---|---|---|---|');
    for (const r of rows) {
      const added99 = quantile(r.p, 0.99) - quantile(r.d, 0.99);
      console.log(`| ${r.measure} | ${f(quantile(r.d, 0.5))} / ${f(quantile(r.d, 0.99))} | ${f(quantile(r.p, 0.5))} / ${f(quantile(r.p, 0.99))} | ${f(quantile(r.p, 0.5) - quantile(r.d, 0.5))} | ${f(added99)} | ≤ ${TARGET_ADDED_P99_MS} ms: ${added99 <= TARGET_ADDED_P99_MS ? 'met' : '**not met**'} |`);
    }
    await trpcCall(base, cookie!, 'sandbox.terminals.kill', { projectId, terminalId: term.id });
  } finally {
    direct.kill();
    await nodes.stop();
    rmSync(appDir, { recursive: true, force: true });
  }
  console.log(`load average after: ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
}
