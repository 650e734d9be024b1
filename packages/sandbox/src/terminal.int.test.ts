import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { isAppError } from '@tandem/protocol';
import { childCgroups, createTestHost, hostPidsCgroupDir, processesMatching, type TestHost } from './createTestHost.ts';
import type { SandboxTerminal } from './SandboxTerminal.ts';

let t: TestHost;

before(async () => {
  t = createTestHost();
  const report = await t.host.checkIsolation();
  assert.equal(report.sandboxed, true, `isolation must be available for these tests: ${report.missing.join('; ')}`);
  await t.host.syncWorkingCopy('term', [{ path: 'hello.txt', content: 'hello from the project\n' }]);
  await t.host.syncWorkingCopy('other', [{ path: 'other.txt', content: 'OTHER-PROJECT' }]);
});

after(async () => {
  await t.cleanup();
});

const stripAnsi = (s: string) => s.replace(/\x1b\[[0-9;?]*[A-Za-z]/g, '');

/** Resolves with everything seen so far once `pattern` appears in the (ANSI-stripped) output. */
function waitFor(term: SandboxTerminal, pattern: RegExp, timeoutMs = 10_000): Promise<string> {
  return new Promise((resolve, reject) => {
    let seen = '';
    const timer = setTimeout(() => {
      off();
      reject(new Error(`timed out waiting for ${pattern}; saw ${JSON.stringify(seen)}`));
    }, timeoutMs);
    const off = term.onData((d) => {
      seen += d;
      if (pattern.test(stripAnsi(seen))) {
        clearTimeout(timer);
        off();
        resolve(seen);
      }
    });
  });
}

test('a terminal runs node in the sandbox, resizes, and replays scrollback', async () => {
  const term = await t.host.openTerminal('term', { cols: 80, rows: 24 });
  try {
    const answer = waitFor(term, /^42\r?$/m);
    term.write('node -e "console.log(6*7)"\r');
    await answer;

    const size = waitFor(term, /^24 80\r?$/m);
    term.write('stty size\r');
    await size;
    term.resize(100, 40);
    assert.equal(term.cols, 100);
    const resized = waitFor(term, /^40 100\r?$/m);
    term.write('stty size\r');
    await resized;

    const who = waitFor(term, /^uid=65534/m);
    term.write('id; cat hello.txt; pwd\r');
    await who;
    await sleep(200);
    const replay = stripAnsi(term.scrollback());
    assert.match(replay, /^42\r?$/m, 'scrollback has earlier output');
    assert.match(replay, /hello from the project/);
    assert.match(replay, /^\/project\r?$/m);
    assert.throws(() => term.resize(0, 10), (e) => isAppError(e) && e.code === 'BAD_INPUT');
    assert.throws(() => term.write('x'.repeat(100_000)), (e) => isAppError(e) && e.code === 'TOO_LARGE');
  } finally {
    term.kill();
    await term.closed;
  }
});

test('several terminals per project; each sees only its project; kill ends the whole tree', async () => {
  const a = await t.host.openTerminal('term', { cols: 80, rows: 24 });
  const b = await t.host.openTerminal('term', { cols: 80, rows: 24 });
  const c = await t.host.openTerminal('other', { cols: 80, rows: 24 });
  assert.equal(t.host.terminals('term').length, 2);
  assert.equal(t.host.getTerminal(c.id), c);

  const seenA = waitFor(a, /^A-READY/m);
  a.write('sleep 4311 & echo A-READY\r');
  await seenA;
  const seenB = waitFor(b, /B-LS:.*hello\.txt/);
  b.write('echo B-LS: $(ls)\r');
  await seenB;
  const seenC = waitFor(c, /^C-LS: other\.txt/m);
  c.write('echo C-LS: $(ls /project); cat /project/hello.txt 2>&1\r');
  const cOut = stripAnsi(await seenC);
  await sleep(200);
  assert.doesNotMatch(cOut + stripAnsi(c.scrollback()), /hello from the project/);

  const exited = new Promise((resolve) => a.onExit(resolve));
  assert.ok(processesMatching('sleep 4311').length > 0);
  a.kill();
  await exited;
  assert.equal(a.exited, true);
  assert.deepEqual(processesMatching('sleep 4311'), []);
  a.write('ignored after exit\r');

  // Typing `exit` ends a terminal normally.
  const exitInfo = await new Promise((resolve) => {
    b.onExit(resolve);
    b.write('exit 3\r');
  });
  assert.deepEqual(exitInfo, { exitCode: 3, signal: 0 });
  c.kill();
  await c.closed;
  assert.deepEqual(t.host.terminals('term'), []);
  assert.deepEqual(childCgroups(hostPidsCgroupDir(t.cgroupName)), []);
});

test('a terminal output flood is coalesced and does not stall other terminals', async () => {
  const flood = await t.host.openTerminal('term', { cols: 80, rows: 24 });
  const calm = await t.host.openTerminal('term', { cols: 80, rows: 24 });
  let floodCalls = 0;
  flood.onData(() => floodCalls++);
  try {
    flood.write('yes flood\r');
    await sleep(300);
    const t0 = Date.now();
    const seen = waitFor(calm, /^CALM-OK/m);
    calm.write('echo CALM-OK\r');
    await seen;
    assert.ok(Date.now() - t0 < 2000);
    await sleep(500);
    // ≤ one emission per 16 ms interval (plus leading edges): ~50/s, not one per pty read.
    assert.ok(floodCalls < 100, `${floodCalls} emissions in ~1 s`);
    assert.ok(flood.scrollback().length <= 256 * 1024);
  } finally {
    flood.kill();
    calm.kill();
    await Promise.all([flood.closed, calm.closed]);
  }
});
