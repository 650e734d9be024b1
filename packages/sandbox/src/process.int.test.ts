import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { childCgroups, createTestHost, hostPidsCgroupDir, processesMatching, type TestHost } from './createTestHost.ts';

let t: TestHost;

before(async () => {
  t = createTestHost();
  const report = await t.host.checkIsolation();
  assert.equal(report.sandboxed, true, `isolation must be available for these tests: ${report.missing.join('; ')}`);
  await t.host.syncWorkingCopy('proc', [{ path: 'main.py', content: 'print(1)\n' }]);
});

after(async () => {
  await t.cleanup();
});

test('a helper process talks over stdin/stdout in the project\'s sandbox: its files, a read-only extra path, no network; kill ends it and its cgroup', async () => {
  // A host directory the helper may read (like the language server's own package), next to secrets it may not.
  const tool = join(t.baseDir, 'tool');
  mkdirSync(tool, { mode: 0o755 });
  writeFileSync(join(tool, 'version'), 'tool 1.0\n', { mode: 0o644 });
  const script = 'read line; echo "got:$line uid:$(id -u)"; cat main.py; cat "$0/version"; echo x > "$0/w" 2>/dev/null || echo ro; ' +
    'tail -n +3 /proc/net/dev | cut -d: -f1 | tr -d " "; echo end; sleep 1000';
  const proc = await t.host.spawn('proc', ['/bin/sh', '-c', script, tool], { helper: true, binds: [{ src: tool, dest: tool }] });
  let out = '';
  proc.stdout.on('data', (d: Buffer) => (out += d.toString()));
  proc.stdin.write('hello\n');
  const deadline = Date.now() + 20_000;
  while (!/^end$/m.test(out) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  assert.match(out, /^got:hello uid:65534$/m);
  assert.match(out, /^print\(1\)$/m);
  assert.match(out, /^tool 1\.0$/m);
  assert.match(out, /^ro$/m);
  assert.match(out, /^lo$/m);
  assert.equal(out.split('\n').filter((l) => l && !/^(got:|print|tool|ro$|end$)/.test(l)).join(','), 'lo', 'only a loopback of its own');
  assert.equal(t.host.processes('proc').length, 1);
  proc.kill();
  const exit = await proc.done;
  assert.equal(exit.signal, 'SIGKILL');
  assert.deepEqual(t.host.processes('proc'), []);
  assert.deepEqual(processesMatching('sleep 1000'), []);
  assert.deepEqual(childCgroups(hostPidsCgroupDir(t.cgroupName)), []);
});
