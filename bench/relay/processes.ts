/** Child processes of the relay benchmark: the OpenAI test double and the real Tandem server. */
import { spawn, type ChildProcess } from 'node:child_process';
import { resolve } from 'node:path';

const REPO = resolve(import.meta.dirname, '../..');

export interface Child {
  url: string;
  proc: ChildProcess;
  stop(): Promise<void>;
}

/**
 * Spawns `node --import tsx <script>` and resolves with the first URL matched in its stdout.
 * BENCH_CHILD_NODE_ARGS adds node options to the child (e.g. `--cpu-prof --cpu-prof-dir=/tmp/prof`
 * to profile the server while a benchmark runs; NODE_OPTIONS refuses --cpu-prof).
 */
function start(script: string, args: string[], env: Record<string, string>, urlPattern: RegExp, cwd: string): Promise<Child> {
  const nodeArgs = process.env.BENCH_CHILD_NODE_ARGS?.split(' ').filter(Boolean) ?? [];
  const proc = spawn(process.execPath, [...nodeArgs, '--import', 'tsx', script, ...args], {
    cwd,
    env: { ...process.env, ...env },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let out = '';
  return new Promise((resolveStart, reject) => {
    const timer = setTimeout(() => reject(new Error(`${script} did not start in 60 s:\n${out}`)), 60_000);
    const onData = (d: Buffer) => {
      out += d;
      const m = urlPattern.exec(out);
      if (!m) return;
      clearTimeout(timer);
      proc.stdout!.off('data', onData);
      proc.stdout!.resume();
      resolveStart({
        url: m[1]!,
        proc,
        stop: () => new Promise<void>((done) => {
          if (proc.exitCode !== null) return done();
          proc.once('exit', () => done());
          proc.kill('SIGTERM');
        }),
      });
    };
    proc.stdout!.on('data', onData);
    proc.stderr!.on('data', (d) => (out += d));
    proc.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${script} exited with ${code}:\n${out}`));
    });
  });
}

/** The OpenAI-compatible test double (packages/inference/src/testing/cli.ts). Its URL ends in /v1. */
export function startTestServer(): Promise<Child> {
  return start('packages/inference/src/testing/cli.ts', ['--port', '0', '--ttft-ms', '0', '--exit-on-stdin-close'], {}, /^(http:\/\/\S+\/v1)\s*$/m, REPO);
}

/** The real Tandem server (API + sync, no web app) with the test double as its only AI provider. */
export function startTandem(providerUrl: string, dataDir: string): Promise<Child> {
  return start('src/main.ts', ['--no-web'], {
    PORT: '0',
    TANDEM_SIGNUPS_PER_IP_PER_HOUR: '10000',
    HOST: '127.0.0.1',
    TANDEM_DATA_DIR: dataDir,
    COOKIE_SECURE: 'false',
    NODE_ENV: 'production',
    OPENAI_BASE_URL: providerUrl,
    OPENAI_MODEL: 'bench-model',
    OPENAI_FIM: 'true',
    // Bench streams are long (the ceiling sweep sends up to 160k tokens in one completion).
    TANDEM_AI_COMPLETION_MAX_TOKENS: '1000000',
  }, /running at (http:\/\/\S+)/, resolve(REPO, 'apps/server'));
}
