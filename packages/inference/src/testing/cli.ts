/**
 * Runs the OpenAI test double as a standalone process for e2e tests and benchmarks:
 *
 *   tsx packages/inference/src/testing/cli.ts --port 0 --ttft-ms 50 --tokens-per-second 3000
 *   tsx packages/inference/src/testing/cli.ts --options '{"tokens":["a","b"],"fault":{"kind":"drop","afterTokens":1}}'
 *
 * Prints one line, the base URL (ending in /v1), once it listens. Reconfigure a running server
 * with POST <origin>/__test/configure (JSON options); read GET <origin>/__test/requests.
 * Stops on SIGINT/SIGTERM or when stdin closes, if started with --exit-on-stdin-close.
 */
import { parseArgs } from 'node:util';
import { OpenAITestServer, type OpenAITestServerOptions } from './OpenAITestServer.ts';

function fail(message: string): never {
  process.stderr.write(`openai-test-server: ${message}\n`);
  process.exit(2);
}

function number(name: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = value === 'Infinity' ? Infinity : Number(value);
  if (Number.isNaN(n)) fail(`--${name} must be a number`);
  return n;
}

const { values } = parseArgs({
  options: {
    port: { type: 'string', default: '0' },
    host: { type: 'string', default: '127.0.0.1' },
    'ttft-ms': { type: 'string' },
    'tokens-per-second': { type: 'string' },
    tokens: { type: 'string' },
    'api-key': { type: 'string' },
    options: { type: 'string' },
    'exit-on-stdin-close': { type: 'boolean', default: false },
  },
  strict: true,
});

let options: OpenAITestServerOptions = {};
if (values.options !== undefined) {
  try {
    options = JSON.parse(values.options) as OpenAITestServerOptions;
  } catch {
    fail('--options must be JSON');
  }
}
const ttftMs = number('ttft-ms', values['ttft-ms']);
const tokensPerSecond = number('tokens-per-second', values['tokens-per-second']);
if (ttftMs !== undefined) options.ttftMs = ttftMs;
if (tokensPerSecond !== undefined) options.tokensPerSecond = tokensPerSecond;
if (values.tokens !== undefined) options.tokens = values.tokens.split(',');
if (values['api-key'] !== undefined) options.apiKey = values['api-key'];

const server = new OpenAITestServer(options);
const url = await server.listen(number('port', values.port) ?? 0, values.host);
process.stdout.write(`${url}\n`);

const stop = (): void => {
  server.close().then(() => process.exit(0), () => process.exit(1));
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
if (values['exit-on-stdin-close']) {
  process.stdin.on('end', stop);
  process.stdin.resume();
}
