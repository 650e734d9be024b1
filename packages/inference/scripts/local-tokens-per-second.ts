/**
 * Measures LocalLlamaProvider throughput (tokens/s) and TTFT on this machine.
 *
 *   npm run bench:local -w @tandem/inference -- [--model file.gguf] [--tokens 300] [--runs 3] [--threads 1,2,4]
 *
 * Default model: the tiny random-weights fixture (gibberish, but real llama.cpp work per token).
 * `--threads` compares thread counts; omit it to measure the provider's default choice.
 * Keep runs short: other work shares the cores.
 */
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import { LocalLlamaProvider } from '../src/LocalLlamaProvider.ts';
import { meter } from '../src/MeteredStream.ts';

const { values } = parseArgs({
  options: {
    model: { type: 'string', default: fileURLToPath(new URL('../../../../shared/fixtures/models/llama-2-tiny-random.gguf', import.meta.url)) },
    tokens: { type: 'string', default: '300' },
    runs: { type: 'string', default: '3' },
    threads: { type: 'string' },
  },
});
const maxTokens = Number(values.tokens);
const runs = Number(values.runs);
const threadChoices: Array<number | undefined> = values.threads ? values.threads.split(',').map(Number) : [undefined];

for (const threads of threadChoices) {
  const provider = new LocalLlamaProvider({ kind: 'local-llama', id: 'bench', modelPath: values.model, contextSize: 2048, threads });
  const loadStart = performance.now();
  await provider.load();
  const loadMs = performance.now() - loadStart;
  const results: Array<{ ttftMs: number; tokens: number; tps: number; wallTps: number }> = [];
  for (let run = 0; run <= runs; run++) {
    // Different prompts each run so the KV-cache prefix reuse does not flatter TTFT.
    const request = { mode: 'chat' as const, messages: [{ role: 'user' as const, content: `Run ${run}: write a sorting function in TypeScript.` }], maxTokens };
    const stream = meter(provider.generate(request));
    for await (const _ of stream) { /* consume */ }
    const m = await stream.done;
    if (run === 0) continue; // warm-up
    results.push({ ttftMs: m.ttftMs ?? NaN, tokens: m.completionTokens, tps: m.tokensPerSecond ?? NaN, wallTps: (m.completionTokens * 1000) / m.durationMs });
  }
  const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  console.log(JSON.stringify({
    threads: provider.threads,
    loadMs: Math.round(loadMs),
    tokensPerRun: results.map((r) => r.tokens),
    medianTtftMs: Number(median(results.map((r) => r.ttftMs)).toFixed(1)),
    medianTokensPerSecond: Math.round(median(results.map((r) => r.tps))),
    medianWallTokensPerSecond: Math.round(median(results.map((r) => r.wallTps))),
  }));
  await provider.dispose();
}
