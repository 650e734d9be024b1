/**
 * `bench -- sandbox` (run start-up part, branch sbxdisk): the cost a persisted environment adds to
 * starting a run. Two projects on a real SandboxHost (bubblewrap, cgroups, seccomp, per-project
 * loop-mounted disks): one empty, one whose node_modules holds ~200 packages (written by a run
 * inside the sandbox, as `npm install` would, so it lives on the project's disk). Each sample is
 * what the Run button costs at the host: sync the documents into the working copy, then run
 * `true` (or `node -e 0`) to its end. Also: the one-time cost of creating and mounting a project
 * disk (first run of a project after a server start), and of mounting an existing one.
 */
import { performance } from 'node:perf_hooks';
import { loadavg } from 'node:os';
import { SandboxHost } from '@tandem/sandbox';
import { createTestHost } from '@tandem/sandbox/testing';

const N = 15;
const PACKAGES = 200;

function quantile(xs: number[], q: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))]!;
}

/** A shell script that writes ~200 small packages (package.json, index.js, lib/ files, README). */
function installScript(): string {
  return [
    'set -e; mkdir -p node_modules',
    `for i in $(seq -w 1 ${PACKAGES}); do d=node_modules/pkg-$i; mkdir -p $d/lib;`,
    '  printf \'{"name":"pkg-%s","version":"1.0.0","main":"index.js"}\' $i > $d/package.json;',
    '  echo "module.exports = require(\'./lib/a.js\');" > $d/index.js;',
    '  for f in a b c d e f; do head -c 2048 /dev/zero | tr "\\0" x > $d/lib/$f.js; done; echo "# pkg-$i" > $d/README.md;',
    'done; find node_modules -type f | wc -l; du -sk node_modules',
  ].join('\n');
}

export async function runSandboxStartupBenchmark(): Promise<void> {
  console.log(`\n## sandbox: run start-up with a persisted node_modules (${PACKAGES} packages) vs an empty project`);
  console.log(`load average before: ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
  const t = createTestHost({ cgroupName: 'tandem-sandbox-bench' });
  try {
    const report = await t.host.checkIsolation();
    if (!report.sandboxed) throw new Error(`sandbox unavailable: ${report.missing.join('; ')}`);
    console.log(`seccomp ${report.seccomp ? 'on' : 'off'}; disk quota ${report.diskQuota.bytes === null ? `off (${report.diskQuota.reason})` : `${report.diskQuota.bytes / 1024 / 1024} MiB per project`}`);
    const docs = [{ path: 'package.json', content: '{"name":"app","version":"1.0.0"}' }, { path: 'index.js', content: 'console.log(1)\n' }];

    // First use of a project: create the sparse image, mkfs, mount; then the sync.
    const c0 = performance.now();
    await t.host.syncWorkingCopy('full', docs);
    const createMs = performance.now() - c0;
    await t.host.syncWorkingCopy('empty', docs);
    const install = await t.host.run('full', installScript(), { limits: { runTimeoutMs: 120_000 } });
    const res = await install.done;
    if (res.exitCode !== 0) throw new Error(`writing node_modules failed: ${JSON.stringify(res)}`);
    const usage = t.host.diskUsage('full');
    const used = usage ? `; ${(usage.usedBytes / 1024 / 1024).toFixed(1)} MiB used on the project disk` : '';
    console.log(`node_modules written in the sandbox: ${PACKAGES} packages, ${PACKAGES * 8} files${used}`);

    for (const command of ['true', 'node -e 0']) {
      const samples: Record<'empty' | 'full', number[]> = { empty: [], full: [] };
      for (let i = 0; i <= N; i++) {
        for (const project of (i % 2 ? ['empty', 'full'] : ['full', 'empty']) as ('empty' | 'full')[]) {
          const s0 = performance.now();
          await t.host.syncWorkingCopy(project, docs);
          const r = await t.host.run(project, command);
          const result = await r.done;
          if (result.exitCode !== 0) throw new Error(`${command} failed in ${project}`);
          if (i > 0) samples[project].push(performance.now() - s0);
        }
      }
      const row = (p: 'empty' | 'full') => `p50 ${quantile(samples[p], 0.5).toFixed(1)} ms, p90 ${quantile(samples[p], 0.9).toFixed(1)} ms`;
      console.log(`${command.padEnd(10)} empty project: ${row('empty')} | with node_modules: ${row('full')} | added (p50): ${(quantile(samples.full, 0.5) - quantile(samples.empty, 0.5)).toFixed(1)} ms  [n=${N} each, interleaved]`);
    }

    // After a server restart the existing image is mounted again at the project's first use.
    await t.host.close();
    const restarted = new SandboxHost({ rootDir: t.rootDir, cgroupName: 'tandem-sandbox-bench', log: () => {} });
    try {
      await restarted.checkIsolation();
      const m0 = performance.now();
      await restarted.syncWorkingCopy('full', docs);
      const remountMs = performance.now() - m0;
      console.log(`one-time costs: a new project's disk (sparse image + mkfs.ext4 + mount + sync) ${createMs.toFixed(0)} ms; mounting an existing one after a restart (+ sync) ${remountMs.toFixed(0)} ms`);
    } finally {
      await restarted.close();
    }
  } finally {
    await t.cleanup();
  }
  console.log(`load average after: ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
}
