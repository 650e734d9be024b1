// Fair queuing for sandbox slots: when the host is full, starts wait (with their position on the
// project's stream) instead of failing, the freed slot goes to the person holding the fewest, the
// queue is capped and a wait times out. Real server, real bubblewrap sandboxes, tRPC and SSE.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { SandboxQueued } from '@tandem/api';
import { loadEnv } from './env.ts';
import { startTandemServer, type TandemServer } from './TandemServer.ts';
import { signUpOverHttp, type SignedIn } from './testing/clients.ts';
import { HttpSubscription, type SseMessage } from './testing/HttpSubscription.ts';

const HOST_SLOTS = 2;
const QUEUE_MAX = 3;
const QUEUE_SECONDS = 25;

let dataDir: string;
let sandboxDir: string;
let server: TandemServer;
let hog: SignedIn;
let other: SignedIn;
let third: SignedIn;
const subscriptions: HttpSubscription[] = [];

before(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'tandem-queue-'));
  sandboxDir = mkdtempSync(join(tmpdir(), 'tandem-queue-sandboxes-'));
  chmodSync(sandboxDir, 0o711);
  server = await startTandemServer(loadEnv({
    PORT: '0', HOST: '127.0.0.1', TANDEM_DATA_DIR: dataDir, COOKIE_SECURE: 'false', TANDEM_SANDBOX_DIR: sandboxDir,
    TANDEM_SANDBOX_MAX_SESSIONS: String(HOST_SLOTS), TANDEM_SANDBOX_QUEUE_MAX: String(QUEUE_MAX), TANDEM_SANDBOX_QUEUE_SECONDS: String(QUEUE_SECONDS),
  }, []), { withWeb: false });
  [hog, other, third] = await Promise.all([signUpOverHttp(server.url, 'Hog'), signUpOverHttp(server.url, 'Other'), signUpOverHttp(server.url, 'Third')]);
});
after(async () => {
  for (const s of subscriptions) s.close();
  await server?.close();
  rmSync(dataDir, { recursive: true, force: true });
  rmSync(sandboxDir, { recursive: true, force: true });
});

async function watch(who: SignedIn, projectId: string): Promise<HttpSubscription> {
  const s = await HttpSubscription.open(server.url, 'stream.events', { projectId, tabId: randomUUID() }, { cookie: who.cookie });
  subscriptions.push(s);
  return s;
}

const queued = (m: SseMessage): SandboxQueued | null => {
  const e = m.data as { type?: string; data?: SandboxQueued } | null;
  return e?.type === 'sandbox.queued' ? e.data! : null;
};

/** The last position each waiting ticket was told, from a project's stream. */
function positions(s: HttpSubscription): Map<string, number | null> {
  const out = new Map<string, number | null>();
  for (const m of s.messages) {
    const q = queued(m);
    if (q) out.set(q.ticket, q.position);
  }
  return out;
}

describe('sandbox slots are queued fairly when the host is full', () => {
  test('one user floods; another user’s Run waits at position 1 and starts as soon as a slot frees', async () => {
    const hogProject = (await hog.api.projects.create.mutate({ name: 'Flood', template: 'node' })).id;
    const otherProject = (await other.api.projects.create.mutate({ name: 'Mine', template: 'node' })).id;
    await other.api.sandbox.setRunCommand.mutate({ projectId: otherProject, command: 'sleep 60' });
    const [hogStream, otherStream] = await Promise.all([watch(hog, hogProject), watch(other, otherProject)]);

    // The hog fills the host, then queues two more terminals.
    const open = () => hog.api.sandbox.terminals.open.mutate({ projectId: hogProject, cols: 80, rows: 24 });
    const held = [await open(), await open()];
    const hogWaits = [open(), open()].map((p) => p.then(() => 'started', (e: Error) => e.message));
    await hogStream.waitFor(() => [...positions(hogStream).values()].sort().join() === '1,2', 20_000);

    // Another user's Run: queued ahead of the hog's extra terminals (the hog already holds two).
    let otherStarted = false;
    const run = other.api.sandbox.runs.start.mutate({ projectId: otherProject }).then((r) => {
      otherStarted = true;
      return r;
    });
    const otherTicket = queued(await otherStream.waitFor((m) => queued(m)?.position === 1, 20_000))!;
    assert.equal(otherTicket.kind, 'run');
    assert.equal(otherTicket.user.name, 'Other');
    await hogStream.waitFor(() => [...positions(hogStream).values()].sort().join() === '2,3', 20_000);
    // The hog's stream never names the other project's wait (events stay on their project's channel).
    assert.ok(!hogStream.messages.some((m) => queued(m)?.ticket === otherTicket.ticket));

    // The queue is full: a further start is refused with a message, not queued.
    const thirdProject = (await third.api.projects.create.mutate({ name: 'Late', template: 'node' })).id;
    await assert.rejects(third.api.sandbox.terminals.open.mutate({ projectId: thirdProject, cols: 80, rows: 24 }), /The server is busy: all sandboxes are in use and 3 starts are already waiting/);

    // One of the hog's terminals ends (as its idle timeout would): the other user's Run starts first.
    assert.equal(otherStarted, false);
    await hog.api.sandbox.terminals.kill.mutate({ projectId: hogProject, terminalId: held[0]!.id });
    const started = await run;
    assert.equal(started.status, 'running');
    await otherStream.waitFor((m) => queued(m)?.ticket === otherTicket.ticket && queued(m)?.position === null, 10_000);
    // No slot is left for the hog's extra terminals: they wait, then time out with a clear message.
    const outcomes = await Promise.all(hogWaits);
    for (const o of outcomes) assert.match(o, new RegExp(`The server stayed busy for ${QUEUE_SECONDS} s \\(all sandboxes in use\\), so this did not start`));
    await hogStream.waitFor(() => [...positions(hogStream).values()].every((p) => p === null), 10_000);

    await other.api.sandbox.runs.stop.mutate({ projectId: otherProject, runId: started.id });
    await hog.api.sandbox.terminals.kill.mutate({ projectId: hogProject, terminalId: held[1]!.id });
  });
});
