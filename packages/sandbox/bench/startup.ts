/**
 * Start-up cost of a sandboxed run: `true` and `node -e 0`, median of N, compared with spawning
 * the same command directly on the host. Run with `npm run bench -w @tandem/sandbox`.
 */
import { spawnSync } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { createTestHost } from '../src/createTestHost.ts';

const N = Number(process.env.SANDBOX_BENCH_N ?? 11);

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

async function main(): Promise<void> {
  const t = createTestHost({ cgroupName: 'tandem-sandbox-bench' });
  try {
    const report = await t.host.checkIsolation();
    if (!report.sandboxed) throw new Error(`sandbox unavailable: ${report.missing.join('; ')}`);
    await t.host.syncWorkingCopy('bench', [{ path: 'main.js', content: '' }]);
    for (const command of ['true', 'node -e 0']) {
      const total: number[] = [];
      const process: number[] = [];
      const direct: number[] = [];
      for (let i = 0; i <= N; i++) {
        const t0 = performance.now();
        const run = await t.host.run('bench', command);
        const result = await run.done;
        if (result.exitCode !== 0) throw new Error(`${command} failed: ${JSON.stringify(result)}`);
        const d0 = performance.now();
        spawnSync('/bin/sh', ['-c', command]);
        const d1 = performance.now();
        if (i === 0) continue; // warm-up
        total.push(d0 - t0);
        process.push(result.durationMs);
        direct.push(d1 - d0);
      }
      console.log(
        `${command.padEnd(10)} sandboxed: median ${median(total).toFixed(1)} ms run()→done (spawn→exit ${median(process).toFixed(1)} ms); ` +
        `direct on host: ${median(direct).toFixed(1)} ms  [n=${N}]`,
      );
    }
  } finally {
    await t.cleanup();
  }
}

await main();
