// Hostile input on the sync endpoint: a seeded fuzzer sends > 10,000 malformed frames over real
// WebSockets to the real server, authenticated as a project member (testing/HostileFrames.ts says
// what it sends and what each session must end with). Meanwhile an observer stays connected to the
// same document and must keep seeing a peer's edits; afterwards the document holds exactly the
// peer's edits (read through a fresh client and from the database), and the server still answers.
// Replay a run: SEED=<n> npm test -w @tandem/server (the seed is printed with every run).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import WebSocket from 'ws';
import * as Y from 'yjs';
import { DEFAULT_LIMITS, docFromUpdates, textOf } from '@tandem/collab';
import { createPostgresTestDatabase } from '@tandem/db/testing';
import { CLOSE_CODES, TREE_MAP, fileDocName, treeDocName, type TreeEntry } from '@tandem/protocol';
import { loadEnv } from './env.ts';
import { startTandemServer, syncLimitsFromEnv, type TandemServer } from './TandemServer.ts';
import { connectSync, signUpOverHttp, waitFor, type SignedIn, type SyncClient } from './testing/clients.ts';
import { HostileFrames, frameData, type HostileSession } from './testing/HostileFrames.ts';
import { SeededRandom, testSeed } from '@tandem/collab/testing';

// Mixed sessions need a connection each (two queries to authenticate): most of the frame count
// comes from floods, which are cheap per frame; ~1,300 connections still carry the varied frames.
const MIXED_FRAMES = 4000;
const AWARENESS_FLOODS = 10;
const QUERY_FLOODS = 10;
const MIN_FRAMES = 10_000;
/** Concurrent hostile connections (one user: well under maxConnectionsPerUser). */
const WORKERS = 8;
const PEER_EDIT_EVERY_MS = 100;
/** Every close code the sync endpoint documents for hostile input (README "Sync protocol close codes"). */
const DOCUMENTED_HOSTILE_CODES = new Set<number>([CLOSE_CODES.BAD_MESSAGE, CLOSE_CODES.TOO_LARGE, CLOSE_CODES.RATE_LIMITED, 1009]);

interface SessionResult {
  code: number;
  reason: string;
  framesSent: number;
}

test('the sync endpoint survives 10,000+ hostile frames; bystanders and stored content are unaffected', { timeout: 60_000 }, async (t) => {
  const seed = testSeed();
  t.diagnostic(`SEED=${seed}`);
  const dataDir = mkdtempSync(join(tmpdir(), 'tandem-fuzz-'));
  // PostgreSQL (a process of its own) rather than the embedded database: the ~2,000 connections
  // each authenticate with two queries, which in-process PGlite would make the test's main cost.
  const database = await createPostgresTestDatabase();
  const env = loadEnv({
    PORT: '0', HOST: '127.0.0.1', TANDEM_DATA_DIR: dataDir, DATABASE_URL: database.location, COOKIE_SECURE: 'false',
  }, []);
  const server = await startTandemServer(env, { withWeb: false });
  // The server's sync limits (the environment's defaults over collab's) and its transport cap (ws's maxPayload).
  const limits = { ...DEFAULT_LIMITS, ...syncLimitsFromEnv(env) };
  const transportCap = Math.max(2 * limits.maxMessageBytes, limits.maxMessageBytes + 1024 * 1024);
  const quiet = silenceSyncLogs();
  const clients: SyncClient[] = [];
  let peerTimer: NodeJS.Timeout | undefined;
  try {
    const owner = await signUpOverHttp(server.url, 'Owner');
    const projectId = (await owner.api.projects.create.mutate({ name: 'Fuzzed', template: 'node' })).id;
    const documentName = await fileDocument(server, owner, projectId);
    const [watcher, mallory] = await Promise.all([member(server, owner, projectId, 'Watcher'), member(server, owner, projectId, 'Mallory')]);

    const peer = connectSync(server.url, documentName, { cookie: owner.cookie });
    const observer = connectSync(server.url, documentName, { cookie: watcher.cookie });
    clients.push(peer, observer);
    await Promise.all([peer.synced, observer.synced]);
    const initialText = peer.text.toString();
    assert.match(initialText, /export function greet/);

    const random = new SeededRandom(seed);
    const frames = new HostileFrames(random, {
      initialState: Y.encodeStateAsUpdate(peer.doc),
      maxMessageBytes: limits.maxMessageBytes,
      transportCapBytes: transportCap,
      controlBurst: limits.controlMessagesBurst,
    });
    const plan = frames.plan(MIXED_FRAMES, AWARENESS_FLOODS, QUERY_FLOODS);

    // The peer types throughout; the observer must see every edit.
    let peerEdits = 0;
    let expectedText = initialText;
    peerTimer = setInterval(() => {
      const edit = `/*${peerEdits++}*/`;
      peer.text.insert(peer.text.length, edit);
      expectedText += edit;
    }, PEER_EDIT_EVERY_MS);
    const health = watchHealth(server.url);

    const started = performance.now();
    const syncUrl = `${server.url.replace(/^http:\/\/localhost/, 'ws://127.0.0.1')}/sync/${documentName}`; // no DNS lookup per connection
    const results = await runSessions(syncUrl, mallory.cookie, plan);
    const fuzzSeconds = (performance.now() - started) / 1000;
    clearInterval(peerTimer);
    const healthFailures = await health.stop();

    // Outcomes: every session closed as planned, with a documented code.
    const histogram = new Map<number, number>();
    const mismatches: string[] = [];
    let framesSent = 0;
    let loudAccepted = 0;
    plan.forEach((session, i) => {
      const r = results[i]!;
      framesSent += r.framesSent;
      histogram.set(r.code, (histogram.get(r.code) ?? 0) + 1);
      const { code, reasons } = session.expected;
      if (r.code !== code || (reasons.length > 0 && !reasons.includes(r.reason))) {
        mismatches.push(`${session.name} [${session.frames.map((f) => f.kind).join(', ')}]: expected ${code} ${reasons.join(' | ')}, got ${r.code} "${r.reason}"`);
      }
      if (session.name === 'mixed' && reasons.length === 2 && r.reason === reasons[1]) loudAccepted++;
    });
    const kinds = new Map<string, number>();
    for (const session of plan) for (const f of session.frames) kinds.set(f.kind, (kinds.get(f.kind) ?? 0) + 1);
    t.diagnostic(`${framesSent} frames in ${plan.length} connections, ${fuzzSeconds.toFixed(1)} s; close codes ${JSON.stringify(Object.fromEntries(histogram))}`);
    t.diagnostic(`frames by kind ${JSON.stringify(Object.fromEntries(kinds))}; loud frames the server could decode (accepted, no effect): ${loudAccepted}; candidates rerolled because they were valid edits: ${frames.rerolled}`);
    t.diagnostic(`server log lines swallowed: ${quiet.warnings} warnings`);

    assert.ok(framesSent >= MIN_FRAMES, `${framesSent} frames sent`);
    assert.deepEqual(mismatches.slice(0, 10), [], `${mismatches.length} sessions ended unexpectedly`);
    for (const code of histogram.keys()) assert.ok(DOCUMENTED_HOSTILE_CODES.has(code), `undocumented close code ${code}`);
    assert.equal(healthFailures, 0, 'the health endpoint answered throughout');
    assert.equal((await fetch(`${server.url}/api/health`)).status, 200);
    assert.deepEqual(quiet.errors, [], 'the server logged no errors (only warnings about malformed messages)');
    assert.ok(quiet.warnings <= 50, `${quiet.warnings} warnings for ${framesSent} hostile frames: logging must be throttled`);

    // Bystanders: never disconnected, never fed an update they could not apply, still in sync.
    await waitFor(() => observer.text.toString() === expectedText && peer.text.toString() === expectedText, 'observer sees every peer edit', 10_000);
    assert.ok(peerEdits > 10, `${peerEdits} peer edits`);
    assert.deepEqual(peer.closes, []);
    assert.deepEqual(observer.closes, []);
    assert.deepEqual(quiet.clientErrors, [], 'y-websocket clients never failed to apply an update');
    await waitFor(() => server.sync.stats().connections === 2, 'only the two bystanders remain connected');

    // Stored content: exactly the peer's edits, through a fresh client and in the database.
    const fresh = connectSync(server.url, documentName, { cookie: watcher.cookie });
    clients.push(fresh);
    await fresh.synced;
    assert.equal(fresh.text.toString(), expectedText);
    assert.deepEqual(stateVector(fresh.doc), stateVector(peer.doc), 'no hostile client id was integrated');
    await server.sync.editDocument(documentName, () => {}); // waits until every change is durable
    const stored = await storedDocument(server, documentName);
    assert.equal(textOf(stored).toString(), expectedText);
    assert.deepEqual(stateVector(stored), stateVector(peer.doc));
  } catch (error) {
    console.error(`fuzz failed; replay with SEED=${seed}`);
    throw error;
  } finally {
    clearInterval(peerTimer);
    quiet.restore();
    for (const c of clients) c.destroy();
    await server.close();
    await database.destroy();
    rmSync(dataDir, { recursive: true, force: true });
  }
});

/** Runs the sessions on WORKERS concurrent connections; results in plan order. */
async function runSessions(url: string, cookie: string, plan: HostileSession[]): Promise<SessionResult[]> {
  const results: SessionResult[] = new Array(plan.length);
  let next = 0;
  const worker = async () => {
    while (next < plan.length) {
      const i = next++;
      results[i] = await runSession(url, cookie, plan[i]!);
    }
  };
  await Promise.all(Array.from({ length: WORKERS }, worker));
  return results;
}

/** One connection: wait for the server's first message (the document is live), send, await the close. */
function runSession(url: string, cookie: string, session: HostileSession): Promise<SessionResult> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { headers: { cookie }, perMessageDeflate: false });
    let framesSent = 0;
    const timer = setTimeout(() => {
      ws.terminate();
      reject(new Error(`${session.name} session not closed by the server within 10 s (${framesSent} frames sent)`));
    }, 10_000);
    ws.once('message', () => {
      for (const f of session.frames) {
        if (ws.readyState !== WebSocket.OPEN) break;
        ws.send(frameData(f));
        framesSent++;
      }
    });
    ws.on('error', () => {}); // the close event carries the outcome
    ws.on('close', (code, reason) => {
      clearTimeout(timer);
      resolve({ code, reason: reason.toString(), framesSent });
    });
  });
}

/** Polls the health endpoint; stop() resolves with the number of failed polls. */
function watchHealth(baseUrl: string): { stop(): Promise<number> } {
  let failures = 0;
  let polling: Promise<void> = Promise.resolve();
  const timer = setInterval(() => {
    polling = fetch(`${baseUrl}/api/health`, { signal: AbortSignal.timeout(5000) }).then(
      (res) => void (res.status === 200 || failures++),
      () => void failures++,
    );
  }, 250);
  return {
    async stop() {
      clearInterval(timer);
      await polling;
      return failures;
    },
  };
}

/**
 * The server logs (a throttled number of) warnings about malformed messages: count them. Server
 * errors and y-websocket's "failed to apply an update" are kept for the assertions.
 */
function silenceSyncLogs() {
  const { warn, error } = console;
  const state = { warnings: 0, errors: [] as string[], clientErrors: [] as string[], restore: () => {} };
  console.warn = (...args: unknown[]) => {
    if (String(args[0]).startsWith('[sync]')) state.warnings++;
    else warn(...args);
  };
  console.error = (...args: unknown[]) => {
    const line = args.map(String).join(' ');
    if (line.includes('Yjs update')) state.clientErrors.push(line);
    else if (line.startsWith('[sync]')) state.errors.push(line);
    else error(...args);
  };
  state.restore = () => {
    console.warn = warn;
    console.error = error;
  };
  return state;
}

async function fileDocument(server: TandemServer, owner: SignedIn, projectId: string): Promise<string> {
  const tree = connectSync(server.url, treeDocName(projectId), { cookie: owner.cookie });
  try {
    await tree.synced;
    const entries = tree.doc.getMap<TreeEntry>(TREE_MAP).toJSON() as Record<string, TreeEntry>;
    const [fileId] = Object.entries(entries).find(([, e]) => e.path === 'src/greet.js')!;
    return fileDocName(projectId, fileId);
  } finally {
    tree.destroy();
  }
}

async function member(server: TandemServer, owner: SignedIn, projectId: string, name: string): Promise<SignedIn> {
  const user = await signUpOverHttp(server.url, name);
  const invite = await owner.api.invites.create.mutate({ projectId, role: 'editor' });
  await user.api.invites.accept.mutate({ token: invite.token });
  return user;
}

/** Snapshot plus update log. Updates are read first: a compaction in between only repeats some. */
async function storedDocument(server: TandemServer, name: string): Promise<Y.Doc> {
  const updates = await server.db.prisma.documentUpdate.findMany({ where: { documentName: name }, orderBy: { id: 'asc' } });
  const doc = await server.db.prisma.document.findUnique({ where: { name } });
  // Merged first: applied one by one, each update left pending would re-merge all pending ones.
  return docFromUpdates([Y.mergeUpdates([...(doc?.snapshot ? [doc.snapshot] : []), ...updates.map((u) => u.data)])]);
}

function stateVector(doc: Y.Doc): [number, number][] {
  return [...Y.decodeStateVector(Y.encodeStateVector(doc))].sort((a, b) => a[0] - b[0]);
}
