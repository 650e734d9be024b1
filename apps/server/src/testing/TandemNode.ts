/**
 * One Tandem server node as a child process (`src/main.ts --no-web`: API and sync only), for
 * multi-node tests: several nodes share one PostgreSQL database and one Redis, each has its own
 * data directory. `kill('SIGKILL')` is a crash; `kill('SIGTERM')` a graceful shutdown.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { removeDirWithMounts } from './removeDirWithMounts.ts';

const SERVER_DIR = resolve(import.meta.dirname, '../..');

export class TandemNode {
  private output = '';

  private constructor(
    readonly proc: ChildProcess,
    readonly env: Record<string, string>,
    readonly dataDir: string,
    readonly url: string,
  ) {}

  /** Starts a node and resolves once it listens. `env` holds DATABASE_URL, REDIS_URL, … */
  static async start(env: Record<string, string>, dataDir = mkdtempSync(join(tmpdir(), 'tandem-node-'))): Promise<TandemNode> {
    // Sandbox working copies live in <dataDir>/sandboxes and must be reachable by the sandbox uid.
    chmodSync(dataDir, 0o711);
    const proc = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts', '--no-web'], {
      cwd: SERVER_DIR,
      env: { ...process.env, PORT: '0', HOST: '127.0.0.1', TANDEM_DATA_DIR: dataDir, NODE_ENV: 'production', COOKIE_SECURE: 'false', TANDEM_SIGNUPS_PER_IP_PER_HOUR: '10000', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    const collect = (d: Buffer) => (output += d);
    proc.stdout!.on('data', collect);
    proc.stderr!.on('data', collect);
    const url = await new Promise<string>((res, rej) => {
      const timer = setTimeout(() => {
        proc.kill('SIGKILL'); // a node that never said it listens must not outlive the test
        rej(new Error(`node did not start in 90 s:\n${output}`));
      }, 90_000); // a loaded machine
      const check = () => {
        const m = /running at http:\/\/localhost:(\d+)/.exec(output);
        if (m) {
          clearTimeout(timer);
          res(`http://127.0.0.1:${m[1]}`);
        }
      };
      proc.stdout!.on('data', check);
      proc.once('exit', (code) => {
        clearTimeout(timer);
        rej(new Error(`node exited with ${code}:\n${output}`));
      });
    });
    const node = new TandemNode(proc, env, dataDir, url);
    node.output = output;
    proc.stdout!.off('data', collect);
    proc.stderr!.off('data', collect);
    proc.stdout!.on('data', (d: Buffer) => (node.output += d));
    proc.stderr!.on('data', (d: Buffer) => (node.output += d));
    return node;
  }

  get port(): number {
    return Number(new URL(this.url).port);
  }

  get alive(): boolean {
    return this.proc.exitCode === null && this.proc.signalCode === null;
  }

  log(): string {
    return this.output;
  }

  /** Sends `signal` and resolves with the exit code (null when killed by the signal). */
  stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<number | null> {
    return new Promise((res) => {
      if (!this.alive) return res(this.proc.exitCode);
      this.proc.once('exit', (code) => res(code));
      this.proc.kill(signal);
    });
  }

  /** A new process with the same environment and data directory (after a crash or stop). */
  restart(): Promise<TandemNode> {
    return TandemNode.start(this.env, this.dataDir);
  }

  removeDataDir(): void {
    removeDirWithMounts(this.dataDir);
  }
}
