import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { isAppError } from '@tandem/protocol';
import {
  childCgroups, createTestHost, hostPidsCgroupDir, processesMatching, runAndCollect, type TestHost,
} from './createTestHost.ts';

let t: TestHost;

before(async () => {
  t = createTestHost({
    limits: { memoryBytes: 128 * 1024 * 1024, pidsMax: 32, runTimeoutMs: 3000, outputCapBytes: 256 * 1024 },
  });
  const report = await t.host.checkIsolation();
  assert.equal(report.sandboxed, true, `isolation must be available for these tests: ${report.missing.join('; ')}`);
  await t.host.syncWorkingCopy('lim', [{ path: 'main.py', content: 'print("ok")' }]);
});

after(async () => {
  await t.cleanup();
});

/** Largest lateness of a 20 ms host timer while `work` runs: the host must stay responsive. */
async function hostTimerLateness<T>(work: Promise<T>): Promise<{ value: T; maxLateMs: number }> {
  let maxLateMs = 0;
  let expected = performance.now() + 20;
  const timer = setInterval(() => {
    const now = performance.now();
    maxLateMs = Math.max(maxLateMs, now - expected);
    expected = now + 20;
  }, 20);
  try {
    return { value: await work, maxLateMs };
  } finally {
    clearInterval(timer);
  }
}

test('a fork bomb hits the pids limit, is killed at the wall-clock limit, and the host keeps ticking', async (ctx) => {
  // `exec`: once the bomb fills the pids limit, the run's own shell could not fork a `sleep` either.
  const { value, maxLateMs } = await hostTimerLateness(runAndCollect(t.host, 'lim', 'bomb() { bomb | bomb & }; bomb; exec sleep 100'));
  ctx.diagnostic(`host timer max lateness during fork bomb: ${maxLateMs.toFixed(1)} ms`);
  assert.equal(value.result.reason, 'killed-timeout');
  assert.equal(value.result.pidsLimitHit, true);
  assert.ok(maxLateMs < 300, `host timer was ${maxLateMs} ms late`);
  assert.deepEqual(processesMatching('bomb | bomb'), [], 'no process of the bomb survives');
  assert.deepEqual(childCgroups(hostPidsCgroupDir(t.cgroupName)), [], 'its cgroup was removed');
});

test('a memory hog is OOM-killed at the memory limit', async () => {
  const hog = 'python3 -c "\nb = []\nwhile True: b.append(bytearray(1 << 20))\n"';
  const { result } = await runAndCollect(t.host, 'lim', hog);
  assert.equal(result.reason, 'killed-memory');
  assert.equal(result.exitCode, 137);
  assert.ok(result.peakMemoryBytes <= 128 * 1024 * 1024, `peak ${result.peakMemoryBytes}`);
  assert.ok(result.durationMs < 2500, 'killed well before the wall-clock limit');
});

test('an infinite loop is killed at the wall-clock limit', async () => {
  const t0 = performance.now();
  const { result } = await runAndCollect(t.host, 'lim', 'node -e "for(;;){}"', { limits: { runTimeoutMs: 1500 } });
  const elapsed = performance.now() - t0;
  assert.equal(result.reason, 'killed-timeout');
  assert.ok(result.durationMs >= 1400 && elapsed < 4000, `duration ${result.durationMs}, elapsed ${elapsed}`);
});

test('an output flood is capped, coalesced, and a parallel run still completes promptly', async (ctx) => {
  const cap = 4 * 1024 * 1024;
  let delivered = 0;
  let calls = 0;
  const flood = await t.host.run('lim', 'yes "flood flood flood flood"', {
    limits: { outputCapBytes: cap, runTimeoutMs: 20_000 },
    onOutput: (c) => {
      calls++;
      delivered += Buffer.byteLength(c.text);
    },
  });
  await sleep(100);
  const t0 = performance.now();
  const normal = await runAndCollect(t.host, 'lim', 'python3 main.py');
  const normalMs = performance.now() - t0;
  const result = await flood.done;
  ctx.diagnostic(`flood: ${result.outputBytes} bytes in ${result.durationMs} ms, ${calls} onOutput calls; parallel run took ${normalMs.toFixed(0)} ms`);
  assert.equal(normal.output, 'ok\n');
  assert.ok(normalMs < 3000, `parallel run took ${normalMs} ms`);
  assert.equal(result.reason, 'output-capped');
  assert.equal(result.outputBytes, cap);
  assert.equal(delivered, cap);
  // ≤ one emission per 25 ms interval per stream, plus the leading one and the final flush.
  assert.ok(calls <= Math.ceil(result.durationMs / 25) * 2 + 4, `${calls} calls in ${result.durationMs} ms`);
});

test('stop() kills the whole tree, including background children', async () => {
  const run = await t.host.run('lim', 'sleep 4242 & sleep 4243 & node -e "setInterval(()=>{},1000)"', { limits: { runTimeoutMs: 20_000 } });
  await sleep(300);
  assert.ok(processesMatching('sleep 4242').length > 0, 'the background child was running');
  run.stop();
  const result = await run.done;
  assert.equal(result.reason, 'stopped');
  assert.deepEqual(processesMatching('sleep 4242'), []);
  assert.deepEqual(processesMatching('sleep 4243'), []);
  assert.deepEqual(childCgroups(hostPidsCgroupDir(t.cgroupName)), []);
});

test('background children die when the main program exits on its own', async () => {
  const { result } = await runAndCollect(t.host, 'lim', '(sleep 4244 &) ; echo done');
  assert.equal(result.reason, 'exit');
  assert.equal(result.exitCode, 0);
  assert.ok(result.durationMs < 2500, `took ${result.durationMs} ms`);
  assert.deepEqual(processesMatching('sleep 4244'), []);
});

test('an abort signal stops a run; bad commands and project ids are refused', async () => {
  const ac = new AbortController();
  const run = await t.host.run('lim', 'sleep 30', { signal: ac.signal });
  setTimeout(() => ac.abort(), 100);
  assert.equal((await run.done).reason, 'stopped');
  await assert.rejects(t.host.run('lim', '   '), (e) => isAppError(e) && e.code === 'BAD_INPUT');
  await assert.rejects(t.host.run('../etc', 'true'), (e) => isAppError(e) && e.code === 'BAD_INPUT');
  await assert.rejects(t.host.run('lim', 'true', { limits: { memoryBytes: 1 } }), (e) => isAppError(e) && e.code === 'BAD_INPUT');
});

test('per-project concurrency is bounded', async () => {
  const runs = await Promise.all([1, 2, 3, 4].map(() => t.host.run('lim', 'sleep 30')));
  await assert.rejects(t.host.run('lim', 'true'), (e) => isAppError(e) && e.code === 'RATE_LIMITED');
  for (const r of runs) r.stop();
  await Promise.all(runs.map((r) => r.done));
  const after = await runAndCollect(t.host, 'lim', 'echo again');
  assert.equal(after.output, 'again\n');
});
