/**
 * Benchmark dispatcher: `npm run bench -w @tandem/bench` runs every benchmark in turn;
 * `npm run bench -w @tandem/bench -- sync` runs the named ones. Add new benchmarks to BENCHMARKS.
 * Arguments starting with `--` are options, passed to every selected benchmark
 * (e.g. `… -- load --quick`).
 */
export {};

const BENCHMARKS: Record<string, (options: string[]) => Promise<void>> = {
  sync: async () => (await import('./sync.ts')).runSyncBenchmark(),
  relay: async () => (await import('./relay.ts')).runRelayBenchmark(),
  suggestions: async () => (await import('./suggestions.ts')).runSuggestionsBenchmark(),
  load: async (options) => (await import('./load.ts')).runLoadBenchmark(options),
  agent: async () => (await import('./agent.ts')).runAgentBenchmark(),
};

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
