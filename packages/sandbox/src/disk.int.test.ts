import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { isAppError, MAX_FILE_BYTES } from '@tandem/protocol';
import { createTestHost, processesMatching, runAndCollect, type TestHost } from './createTestHost.ts';

const QUOTA = 48 * 1024 * 1024;
let t: TestHost;

before(async () => {
  t = createTestHost({ diskQuotaBytes: QUOTA, limits: { runTimeoutMs: 20_000 } });
  const report = await t.host.checkIsolation();
  assert.equal(report.sandboxed, true, `isolation must be available for these tests: ${report.missing.join('; ')}`);
  assert.deepEqual(report.diskQuota, { bytes: QUOTA }, 'loop-mounted project disks must work here');
});

after(async () => {
  await t.cleanup();
  assert.ok(!readFileSync('/proc/self/mounts', 'utf8').includes(t.rootDir), 'close() unmounts every project disk');
});

const mounted = (projectId: string) => readFileSync('/proc/self/mounts', 'utf8').includes(join(t.rootDir, projectId, 'disk'));

test('the working copy and /tmp share the project quota: filling either fails at the quota with a clear notice', async () => {
  await t.host.syncWorkingCopy('full', [{ path: 'main.py', content: 'print(1)' }]);
  await t.host.syncWorkingCopy('other', [{ path: 'main.py', content: 'print("other ok")' }]);
  assert.ok(mounted('full'));
  const hostImage = join(t.rootDir, 'full', 'disk.img');

  const fillWork = await runAndCollect(t.host, 'full', 'dd if=/dev/zero of=big bs=1M count=100 2>&1; echo "dd exit $?"');
  assert.match(fillWork.output, /No space left on device/);
  assert.doesNotMatch(fillWork.output, /dd exit 0/);
  assert.match(fillWork.output, /\[tandem\] This project's disk is full \(quota 48 MiB/);
  assert.ok(statSync(hostImage).blocks * 512 <= QUOTA + 1024 * 1024, 'the host never stores more than the quota');
  const usage = t.host.diskUsage('full')!;
  assert.ok(usage.freeBytes < 1024 * 1024 && usage.quotaBytes <= QUOTA, JSON.stringify(usage));

  // Another project, and the host itself, keep working while this one is full.
  const other = await runAndCollect(t.host, 'other', 'python3 main.py && echo data > out.txt && cat out.txt');
  assert.equal(other.result.exitCode, 0, other.output);
  assert.match(other.output, /other ok\ndata/);
  assert.doesNotMatch(other.output, /disk is full/);

  // Host-side writes into the full disk fail with the same clear message, nothing else breaks.
  await assert.rejects(
    t.host.syncWorkingCopy('full', [{ path: 'main.py', content: 'x'.repeat(MAX_FILE_BYTES) }]),
    (e) => isAppError(e) && e.code === 'TOO_LARGE' && /disk is full/.test(e.message),
  );

  // /tmp is on the same disk: free the working copy, then fill /tmp.
  const fillTmp = await runAndCollect(t.host, 'full', 'rm -f big; dd if=/dev/zero of=/tmp/big bs=1M count=100 2>&1; echo "dd exit $?"; df -k /tmp | tail -1');
  assert.match(fillTmp.output, /No space left on device/);
  assert.match(fillTmp.output, /disk is full/);
  // The run's /tmp is removed when it ends: the space comes back.
  const after = await runAndCollect(t.host, 'full', 'ls /tmp | wc -l; echo ok > f && cat f');
  assert.match(after.output, /^0\nok\n$/);
  assert.ok(t.host.diskUsage('full')!.freeBytes > 40 * 1024 * 1024);
});

test('installed packages, virtualenvs and caches persist across runs and terminals, outside the documents', async () => {
  await t.host.syncWorkingCopy('env', [{ path: 'index.js', content: 'console.log(require("left-pad-ish")())' }]);
  const install = await runAndCollect(t.host, 'env', [
    'mkdir -p node_modules/left-pad-ish .venv/bin .cache/pip',
    'echo "module.exports = () => \\"from node_modules\\"" > node_modules/left-pad-ish/index.js',
    'echo venv > .venv/bin/marker && echo cached > .cache/pip/blob',
    'echo "$npm_config_cache $XDG_CACHE_HOME"',
  ].join(' && '));
  assert.equal(install.result.exitCode, 0, install.output);
  assert.match(install.output, /\/project\/\.cache\/npm \/project\/\.cache/);
  // A new sync (documents changed) keeps the environment.
  await t.host.syncWorkingCopy('env', [{ path: 'index.js', content: 'console.log(require("left-pad-ish")() + "!")' }]);
  const run = await runAndCollect(t.host, 'env', 'node index.js && cat .venv/bin/marker .cache/pip/blob');
  assert.equal(run.output, 'from node_modules!\nvenv\ncached\n');
  const term = await t.host.openTerminal('env', { cols: 80, rows: 24 });
  let seen = '';
  term.onData((d) => (seen += d));
  term.write('node index.js\n');
  for (let i = 0; i < 300 && !seen.includes('from node_modules!'); i++) await sleep(20);
  assert.match(seen, /from node_modules!/);
  // Leaving the shell writes its history: into the environment, not the project's files.
  term.write('exit\n');
  await term.closed;
  // Not offered as files of the project.
  const generated = await t.host.listGeneratedFiles('env', ['index.js']);
  assert.deepEqual(generated.files, []);
});

test('reset environment deletes what programs installed; the documents come back at the next sync', async () => {
  await t.host.syncWorkingCopy('reset', [{ path: 'a.txt', content: 'doc' }]);
  await runAndCollect(t.host, 'reset', 'mkdir -p node_modules/x && echo 1 > node_modules/x/i.js && sleep 30 &');
  const long = await t.host.run('reset', 'sleep 30');
  await t.host.resetEnvironment('reset');
  assert.equal((await long.done).reason, 'stopped', 'running programs are stopped first');
  assert.ok(!mounted('reset') && !existsSync(join(t.rootDir, 'reset', 'disk.img')));
  await t.host.syncWorkingCopy('reset', [{ path: 'a.txt', content: 'doc' }]);
  const after = await runAndCollect(t.host, 'reset', 'ls -A; cat a.txt');
  assert.equal(after.output, 'a.txt\ndoc');
});

test('deleting a project deletes its environment and unmounts its disk', async () => {
  await t.host.syncWorkingCopy('gone', [{ path: 'a.txt', content: 'doc' }]);
  await runAndCollect(t.host, 'gone', 'mkdir -p node_modules/x');
  assert.ok(mounted('gone'));
  await t.host.removeWorkingCopy('gone');
  assert.ok(!mounted('gone'));
  assert.ok(!existsSync(join(t.rootDir, 'gone')));
});

test('processes left behind with nohup, setsid or & die when the run ends or the terminal closes', async () => {
  const left = 'nohup sleep 7101 >/dev/null 2>&1 & setsid sleep 7102 & (sleep 7103 &); echo started';
  const run = await runAndCollect(t.host, 'bg', left);
  assert.equal(run.result.exitCode, 0);
  assert.match(run.output, /started/);
  assert.deepEqual(processesMatching('sleep 710'), []);

  for (const close of ['kill', 'exit'] as const) {
    const term = await t.host.openTerminal('bg', { cols: 80, rows: 24 });
    let seen = '';
    term.onData((d) => (seen += d));
    term.write('nohup sleep 7201 >/dev/null 2>&1 & setsid sleep 7202 & disown -a; echo "bg-$((6*7))"\n');
    for (let i = 0; i < 300 && !seen.includes('bg-42'); i++) await sleep(20);
    // A backgrounded child may not have exec'd `sleep` yet when the echo runs.
    for (let i = 0; i < 150 && processesMatching('sleep 720').length < 2; i++) await sleep(20);
    assert.equal(processesMatching('sleep 720').length, 2, `both background sleeps run (${close})`);
    if (close === 'kill') term.kill();
    else term.write('exit\n');
    await term.closed;
    assert.deepEqual(processesMatching('sleep 720'), [], `nothing survives the terminal (${close})`);
  }
});

test('past the cap on mounted disks, idle ones are unmounted and come back intact at their next use', async () => {
  const capped = createTestHost({ diskQuotaBytes: 16 * 1024 * 1024, maxMountedDisks: 2, diskMountIdleMs: 0, cgroupName: 'tandem-sandbox-test-cap' });
  try {
    await capped.host.checkIsolation();
    const isMounted = (id: string) => readFileSync('/proc/self/mounts', 'utf8').includes(join(capped.rootDir, id, 'disk'));
    for (const id of ['c1', 'c2', 'c3']) {
      await capped.host.syncWorkingCopy(id, [{ path: 'a.txt', content: id }]);
      const r = await runAndCollect(capped.host, id, `mkdir -p node_modules/m && echo ${id}-installed > node_modules/m/i.js`);
      assert.equal(r.result.exitCode, 0);
    }
    for (let i = 0; i < 100 && isMounted('c1'); i++) await sleep(20);
    assert.deepEqual(['c1', 'c2', 'c3'].map(isMounted), [false, true, true], 'the least recently used idle disk was unmounted');
    const back = await runAndCollect(capped.host, 'c1', 'cat a.txt node_modules/m/i.js');
    assert.equal(back.output, 'c1c1-installed\n');
    assert.ok(isMounted('c1'));
  } finally {
    await capped.cleanup();
  }
});

test('with the quota off, projects get plain directories (still persistent) and a tmpfs /tmp', async () => {
  const plain = createTestHost({ diskQuotaBytes: 0, cgroupName: 'tandem-sandbox-test-plain' });
  try {
    const report = await plain.host.checkIsolation();
    assert.deepEqual(report.diskQuota, { bytes: null, reason: 'disabled by configuration (quota 0)' });
    await plain.host.syncWorkingCopy('p', [{ path: 'a.txt', content: 'a' }]);
    const first = await runAndCollect(plain.host, 'p', 'stat -f -c %T /tmp; mkdir -p node_modules/x && echo kept > node_modules/x/i.js');
    assert.equal(first.output, 'tmpfs\n');
    const again = await runAndCollect(plain.host, 'p', 'cat node_modules/x/i.js');
    assert.equal(again.output, 'kept\n');
    assert.equal(plain.host.diskUsage('p'), null);
    assert.ok(!readFileSync('/proc/self/mounts', 'utf8').includes(plain.rootDir));
  } finally {
    await plain.cleanup();
  }
});

test('a disk removed while it is used again (an agent run ends as its checks start) is removed first, then prepared again', async () => {
  const files = [{ path: 'a.txt', content: 'doc' }];
  await t.host.syncWorkingCopy('race', files);
  for (let i = 0; i < 3; i++) {
    // A fresh disk being prepared while it is removed, and a removal while it is prepared again.
    await Promise.all([t.host.removeWorkingCopy('race'), t.host.syncWorkingCopy('race', files)]);
    const { result, output } = await runAndCollect(t.host, 'race', 'cat a.txt');
    assert.deepEqual([result.exitCode, output], [0, 'doc']);
  }
});
