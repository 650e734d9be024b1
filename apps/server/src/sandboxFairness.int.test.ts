// Item 19: one user cannot take every sandbox slot of the host. Runs and terminals count against
// the person who started them (across all their projects), a terminal nobody types into is closed
// after a short idle time, and everyone else can still run. Real server, real bubblewrap sandboxes.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadEnv } from './env.ts';
import { startTandemServer, type TandemServer } from './TandemServer.ts';
import { signUpOverHttp, type SignedIn } from './testing/clients.ts';

const PER_USER = 3;
const IDLE_SECONDS = 4;

let dataDir: string;
let sandboxDir: string;
let server: TandemServer;
let hog: SignedIn;
let other: SignedIn;

before(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'tandem-fair-'));
  sandboxDir = mkdtempSync(join(tmpdir(), 'tandem-fair-sandboxes-'));
  chmodSync(sandboxDir, 0o711);
  server = await startTandemServer(loadEnv({
    PORT: '0', HOST: '127.0.0.1', TANDEM_DATA_DIR: dataDir, COOKIE_SECURE: 'false', TANDEM_SANDBOX_DIR: sandboxDir,
    TANDEM_SANDBOX_MAX_PER_USER: String(PER_USER), TANDEM_SANDBOX_TERMINAL_IDLE_MINUTES: String(IDLE_SECONDS / 60),
  }, []), { withWeb: false });
  [hog, other] = await Promise.all([signUpOverHttp(server.url, 'Hog'), signUpOverHttp(server.url, 'Other')]);
});
after(async () => {
  await server?.close();
  rmSync(dataDir, { recursive: true, force: true });
  rmSync(sandboxDir, { recursive: true, force: true });
});

describe('item 19: sandbox slots are shared fairly', () => {
  test(`one user opening terminals and runs in many projects at once gets ${PER_USER}; others still run`, async () => {
    const projects = await Promise.all(Array.from({ length: 5 }, (_, i) => hog.api.projects.create.mutate({ name: `Hog ${i}`, template: 'node' })));
    for (const p of projects) await hog.api.sandbox.setRunCommand.mutate({ projectId: p.id, command: 'sleep 30' });
    // 15 terminals (3 per project) and 5 runs, all at once.
    const attempts = projects.flatMap((p) => [
      ...[0, 1, 2].map(() => hog.api.sandbox.terminals.open.mutate({ projectId: p.id, cols: 80, rows: 24 })),
      hog.api.sandbox.runs.start.mutate({ projectId: p.id }),
    ]);
    const results = await Promise.allSettled(attempts);
    const granted = results.filter((r) => r.status === 'fulfilled').length;
    const refusals = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected').map((r) => r.reason as { message: string; data?: { code?: string } });
    console.log(`[item 19] ${granted} of ${attempts.length} sandbox sessions granted to one user`);
    assert.equal(granted, PER_USER);
    assert.ok(refusals.every((e) => e.data?.code === 'TOO_MANY_REQUESTS'), JSON.stringify(refusals.map((e) => e.data?.code)));
    assert.match(refusals[0]!.message, new RegExp(`${PER_USER} runs or terminals open \\(the limit per person\\)`));

    // Someone else runs and opens a terminal meanwhile.
    const mine = await other.api.projects.create.mutate({ name: 'Other', template: 'node' });
    await other.api.sandbox.setRunCommand.mutate({ projectId: mine.id, command: 'echo hi' });
    const run = await other.api.sandbox.runs.start.mutate({ projectId: mine.id });
    assert.equal(run.status, 'running');
    const term = await other.api.sandbox.terminals.open.mutate({ projectId: mine.id, cols: 80, rows: 24 });
    assert.ok(term.id);
    await other.api.sandbox.terminals.kill.mutate({ projectId: mine.id, terminalId: term.id });

    // Stopping one of the hog's sessions gives the slot back.
    for (const p of projects) {
      const [running] = (await hog.api.sandbox.runs.list.query({ projectId: p.id })).filter((r) => r.status === 'running');
      if (running) await hog.api.sandbox.runs.stop.mutate({ projectId: p.id, runId: running.id });
      for (const t of await hog.api.sandbox.terminals.list.query({ projectId: p.id })) {
        if (!t.exited) await hog.api.sandbox.terminals.kill.mutate({ projectId: p.id, terminalId: t.id });
      }
    }
    const again = await hog.api.sandbox.terminals.open.mutate({ projectId: projects[0]!.id, cols: 80, rows: 24 });
    assert.ok(again.id);
  });

  test(`a terminal nobody types into is closed after the idle timeout (${IDLE_SECONDS} s here)`, async () => {
    const p = await other.api.projects.create.mutate({ name: 'Idle', template: 'node' });
    const term = await other.api.sandbox.terminals.open.mutate({ projectId: p.id, cols: 80, rows: 24 });
    const open = async () => (await other.api.sandbox.terminals.list.query({ projectId: p.id })).some((t) => t.id === term.id && !t.exited);
    assert.ok(await open());
    const started = Date.now();
    let stillOpen = true;
    while (stillOpen && Date.now() - started < (IDLE_SECONDS + 20) * 1000) {
      stillOpen = await open();
      if (stillOpen) await new Promise((r) => setTimeout(r, 250));
    }
    assert.equal(stillOpen, false);
    assert.ok(Date.now() - started >= (IDLE_SECONDS - 1) * 1000, 'not before the idle time');
  });
});
