/**
 * Benchmark dispatcher: `npm run bench -w @tandem/bench` runs every benchmark in turn;
 * `npm run bench -w @tandem/bench -- sync` runs the named ones. Add new benchmarks to BENCHMARKS.
 * Arguments starting with `--` are options, passed to every selected benchmark
 * (e.g. `… -- load --quick`).
 */
import { spawn } from 'node:child_process';

const BENCHMARKS: Record<string, (options: string[]) => Promise<void>> = {
  sync: async (options) => (await import('./sync.ts')).runSyncBenchmark(options),
  relay: async () => (await import('./relay.ts')).runRelayBenchmark(),
  suggestions: async () => (await import('./suggestions.ts')).runSuggestionsBenchmark(),
  batch: async () => (await import('./batch.ts')).runBatchBenchmark(),
  browser: async () => (await import('./browser.ts')).runBrowserBenchmark(),
  traces: async (options) => (await import('./traces.ts')).runTracesBenchmark(options),
  load: async (options) => (await import('./load.ts')).runLoadBenchmark(options),
  // Run start-up with a persisted environment (sandbox.ts); preview through the real server process
  // (sandbox/preview.ts); then the sandbox network's components (egress proxy, the preview path
  // inside @tandem/sandbox alone, diagnostic), which run there (this package may not import its internals).
  sandbox: async () => {
    await (await import('./sandbox.ts')).runSandboxStartupBenchmark();
    await (await import('./sandbox/preview.ts')).runSandboxPreviewBenchmark();
    await runPackageScript('@tandem/sandbox', 'bench:network');
  },
  agent: async () => (await import('./agent.ts')).runAgentBenchmark(),
  // ACP protocol overhead over the built-in agent's path; runs in @tandem/api (its internals).
  acp: () => runPackageScript('@tandem/api', 'bench:acp'),
  abuse: async () => (await import('./abuse.ts')).runAbuseBenchmark(),
  // The traces through attribution and time travel here; restoring a 1,000-file project in @tandem/api (its internals).
  history: async (options) => {
    await (await import('./history.ts')).runHistoryBenchmark(options);
    await runPackageScript('@tandem/api', 'bench:restore');
  },
};

function runPackageScript(workspace: string, script: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn('npm', ['run', script, '-w', workspace], { stdio: 'inherit', cwd: new URL('..', import.meta.url).pathname });
    child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`${workspace} ${script} exited with ${code}`))));
  });
}

const options = process.argv.slice(2).filter((arg) => arg.startsWith('--'));
const requested = process.argv.slice(2).filter((arg) => !arg.startsWith('--'));
const unknown = requested.filter((name) => !(name in BENCHMARKS));
if (unknown.length > 0) {
  console.error(`unknown benchmark(s): ${unknown.join(', ')}; available: ${Object.keys(BENCHMARKS).join(', ')}`);
  process.exit(2);
}
for (const name of requested.length > 0 ? requested : Object.keys(BENCHMARKS)) {
  const started = performance.now();
  await BENCHMARKS[name]!(options);
  console.log(`\n(${name}: ${((performance.now() - started) / 1000).toFixed(0)} s)`);
}
