/**
 * How much the OpenAI-compatible provider adds on top of the model, against the local test
 * double over loopback:
 *   - ceiling: the server writes as fast as the socket drains; we report the tokens/s the
 *     provider can parse and deliver, and CPU microseconds per token in this process.
 *   - paced:   the server streams at --rate tok/s after --ttft ms; we report the TTFT and rate the
 *     consumer sees (overhead = measured TTFT - configured TTFT).
 *
 *   npm run bench:stream -w @tandem/inference -- [--tokens 200000] [--rate 3000] [--ttft 20]
 */
import { parseArgs } from 'node:util';
import { OpenAICompatibleProvider } from '../src/OpenAICompatibleProvider.ts';
import { meter } from '../src/MeteredStream.ts';
import { OpenAITestServer } from '../src/testing/index.ts';

const { values } = parseArgs({
  options: {
    tokens: { type: 'string', default: '200000' },
    rate: { type: 'string', default: '3000' },
    ttft: { type: 'string', default: '20' },
  },
});
const request = { mode: 'chat' as const, messages: [{ role: 'user' as const, content: 'go' }] };

async function run(label: string, options: ConstructorParameters<typeof OpenAITestServer>[0]): Promise<void> {
  const server = new OpenAITestServer(options);
  const url = await server.listen();
  const provider = new OpenAICompatibleProvider({ kind: 'openai-compatible', id: 'bench', baseUrl: url, model: 'm' });
  // Warm the connection pool so the measurement is of streaming, not of the TCP handshake.
  for await (const _ of provider.generate({ ...request, maxTokens: 1 })) { /* warm-up */ }
  const cpuBefore = process.cpuUsage();
  const stream = meter(provider.generate(request));
  let chunks = 0;
  for await (const c of stream) if (c.type === 'text') chunks++;
  const m = await stream.done;
  const cpu = process.cpuUsage(cpuBefore);
  const wallTps = (m.completionTokens * 1000) / m.durationMs;
  console.log(JSON.stringify({
    label,
    tokens: m.completionTokens,
    textChunks: chunks,
    ttftMs: Number(m.ttftMs?.toFixed(2)),
    tokensPerSecond: Math.round(m.tokensPerSecond ?? 0),
    wallTokensPerSecond: Math.round(wallTps),
    // Includes the in-process test server's own CPU: an upper bound for the provider.
    cpuMicrosPerToken: Number(((cpu.user + cpu.system) / m.completionTokens).toFixed(2)),
  }));
  await provider.dispose();
  await server.close();
}

await run('ceiling (as fast as possible)', { tokensPerSecond: Infinity, tokenCount: Number(values.tokens) });
await run(`paced ${values.rate} tok/s, ttft ${values.ttft} ms`, { tokensPerSecond: Number(values.rate), ttftMs: Number(values.ttft), tokenCount: Number(values.rate) });
