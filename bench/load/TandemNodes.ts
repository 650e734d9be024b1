/**
 * The system under load: a fresh PostgreSQL database, one or two real Tandem server processes
 * (`apps/server/src/main.ts --no-web`) on it, and — with two nodes — Redis under a prefix of this
 * run's own. Plus the HTTP setup every run needs: users, a project, memberships.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { LoadNode } from './LoadPlan.ts';

const SERVER_DIR = resolve(import.meta.dirname, '../../apps/server');
const POSTGRES = { host: '127.0.0.1', port: '5432', user: 'postgres' };
export const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

interface RunningNode extends LoadNode {
  process: ChildProcess;
  dataDir: string;
  output: string;
}

export class TandemNodes {
  readonly nodes: RunningNode[] = [];

  /** `databaseName` null: the default embedded database (PGlite in each node's data directory). */
  private constructor(readonly databaseName: string | null) {}

  get databaseUrl(): string {
    if (!this.databaseName) throw new Error('the embedded database has no URL');
    return `postgres://${POSTGRES.user}@${POSTGRES.host}:${POSTGRES.port}/${this.databaseName}`;
  }

  /** One node as `npm start` runs it: the default embedded database, no PostgreSQL, no Redis. */
  static async startEmbedded(core: string | null, options: { web?: boolean } = {}): Promise<TandemNodes> {
    const nodes = new TandemNodes(null);
    nodes.nodes.push(await startNode({}, core, options.web ?? false));
    return nodes;
  }

  /** Starts `count` nodes pinned to `core` (null: not pinned); with two or more they share Redis. */
  static async start(count: number, core: string | null): Promise<TandemNodes> {
    const name = `tandem_load_${Date.now().toString(36)}_${randomBytes(3).toString('hex')}`;
    psqlAdmin(['-c', `CREATE DATABASE "${name}"`]);
    const nodes = new TandemNodes(name);
    const shared: Record<string, string> = {
      DATABASE_URL: nodes.databaseUrl,
      TANDEM_SECRET: randomBytes(32).toString('base64url'),
      // Every simulated client connects from 127.0.0.1: the per-IP connection cap would count them as one.
      TANDEM_MAX_CONNECTIONS_PER_IP: '0',
      ...(count > 1 ? { REDIS_URL, TANDEM_REDIS_PREFIX: `tandem-load:${randomBytes(4).toString('hex')}:` } : {}),
    };
    try {
      // The first node applies the migrations alone.
      nodes.nodes.push(await startNode({ ...shared, ...(count > 1 ? { TANDEM_NODE_ID: 'load-0' } : {}) }, core));
      const rest = await Promise.all(Array.from({ length: count - 1 }, (_, i) => startNode({ ...shared, TANDEM_NODE_ID: `load-${i + 1}` }, core)));
      nodes.nodes.push(...rest);
    } catch (error) {
      await nodes.stop();
      throw error;
    }
    return nodes;
  }

  /** Each document's stored state (snapshot + update log), read with psql. */
  storedDocuments(names: string[]): Map<string, Uint8Array[]> {
    if (!this.databaseName) throw new Error('storedDocuments reads PostgreSQL only');
    const list = names.map((n) => `'${n.replace(/'/g, "''")}'`).join(',');
    const rows = psql(this.databaseName, [
      '-At', '-F', '\t', '-c',
      `SELECT name, 0 AS ord, 0 AS id, encode(snapshot, 'hex') FROM "Document" WHERE name IN (${list}) AND snapshot IS NOT NULL
       UNION ALL SELECT "documentName", 1, id, encode(data, 'hex') FROM "DocumentUpdate" WHERE "documentName" IN (${list})
       ORDER BY 1, 2, 3`,
    ]);
    const stored = new Map<string, Uint8Array[]>(names.map((n) => [n, []]));
    for (const line of rows.split('\n')) {
      if (!line) continue;
      const [name, , , hex] = line.split('\t');
      stored.get(name!)?.push(Buffer.from(hex!, 'hex'));
    }
    return stored;
  }

  /** SIGTERM (graceful: flushes), then drops the database and the data directories. */
  async stop(): Promise<void> {
    await Promise.all(this.nodes.map((n) => stopNode(n)));
    for (const n of this.nodes) rmSync(n.dataDir, { recursive: true, force: true });
    if (!this.databaseName) return;
    try {
      psqlAdmin(['-c', `DROP DATABASE IF EXISTS "${this.databaseName}" WITH (FORCE)`]);
    } catch (error) {
      console.error(`could not drop ${this.databaseName}: ${(error as Error).message}`);
    }
  }
}

async function startNode(env: Record<string, string>, core: string | null, web = false): Promise<RunningNode> {
  const dataDir = mkdtempSync(join(tmpdir(), 'tandem-load-'));
  chmodSync(dataDir, 0o711);
  // Diagnostics: BENCH_TANDEM_NODE_ARGS='--cpu-prof --cpu-prof-dir=/tmp/prof' profiles the server.
  const extra = process.env.BENCH_TANDEM_NODE_ARGS?.split(' ').filter(Boolean) ?? [];
  const node = [process.execPath, ...extra, '--import', 'tsx', 'src/main.ts', ...(web ? [] : ['--no-web'])];
  const [command, ...args] = core ? ['taskset', '-c', core, ...node] : node;
  const child = spawn(command!, args, {
    cwd: SERVER_DIR,
    env: { ...process.env, PORT: '0', HOST: '127.0.0.1', TANDEM_DATA_DIR: dataDir, NODE_ENV: 'production', COOKIE_SECURE: 'false', TANDEM_SIGNUPS_PER_IP_PER_HOUR: '100000', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (d: Buffer) => (output += d));
  child.stderr!.on('data', (d: Buffer) => (output += d));
  const port = await new Promise<string>((resolvePort, reject) => {
    // Generous: on a loaded 2-core machine tsx compiling the server alone can take a minute.
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`Tandem did not start in 180 s:\n${output}`));
    }, 180_000);
    const check = () => {
      const m = /running at http:\/\/localhost:(\d+)/.exec(output);
      if (!m) return;
      clearTimeout(timer);
      child.stdout!.off('data', check);
      resolvePort(m[1]!);
    };
    child.stdout!.on('data', check);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`Tandem exited with ${code}:\n${output}`));
    });
  });
  // With taskset, the pid is taskset's until it execs node: the same process, so the same pid.
  return { url: `http://127.0.0.1:${port}`, pid: child.pid!, process: child, dataDir, get output() { return output; } };
}

function stopNode(node: RunningNode): Promise<void> {
  return new Promise((done) => {
    if (node.process.exitCode !== null || node.process.signalCode !== null) return done();
    const kill = setTimeout(() => node.process.kill('SIGKILL'), 15_000);
    node.process.once('exit', () => {
      clearTimeout(kill);
      done();
    });
    node.process.kill('SIGTERM');
  });
}

function psqlAdmin(args: string[]): string {
  return psql('postgres', args);
}

function psql(database: string, args: string[]): string {
  const result = spawnSync('psql', ['-h', POSTGRES.host, '-p', POSTGRES.port, '-U', POSTGRES.user, '-d', database, '-v', 'ON_ERROR_STOP=1', ...args], {
    encoding: 'utf8',
    maxBuffer: 512 * 1024 * 1024,
  });
  if (result.status !== 0) throw new Error(`psql failed: ${result.stderr || result.error?.message}`);
  return result.stdout;
}

export interface Participants {
  projectId: string;
  /** One session cookie per user; the first is the project's owner. */
  cookies: string[];
}

/** Signs up `users` users over the API, the first creates a project and invites the rest as editors. */
export async function setUpProject(baseUrl: string, users: number, template: 'empty' | 'node' = 'empty'): Promise<Participants> {
  const cookies: string[] = [];
  for (let i = 0; i < users; i++) cookies.push(await signUp(baseUrl, `Load ${i}`));
  const { id: projectId } = await call<{ id: string }>(baseUrl, 'projects.create', { name: 'Load', template }, cookies[0]!);
  for (const cookie of cookies.slice(1)) {
    const { token } = await call<{ token: string }>(baseUrl, 'invites.create', { projectId, role: 'editor' }, cookies[0]!);
    await call(baseUrl, 'invites.accept', { token }, cookie);
  }
  return { projectId, cookies };
}

async function signUp(baseUrl: string, name: string): Promise<string> {
  const email = `load-${randomBytes(4).toString('hex')}@example.com`;
  const res = await fetch(`${baseUrl}/api/trpc/auth.signUp`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email, password: 'tandem-test-password', name }),
  });
  if (!res.ok) throw new Error(`sign up failed: ${res.status} ${await res.text()}`);
  return res.headers.getSetCookie()[0]!.split(';')[0]!;
}

async function call<T = unknown>(baseUrl: string, procedure: string, input: unknown, cookie: string): Promise<T> {
  const res = await fetch(`${baseUrl}/api/trpc/${procedure}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', cookie },
    body: JSON.stringify(input),
  });
  if (!res.ok) throw new Error(`${procedure} failed: ${res.status} ${await res.text()}`);
  return ((await res.json()) as { result: { data: T } }).result.data;
}
