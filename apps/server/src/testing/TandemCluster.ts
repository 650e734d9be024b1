/**
 * Several Tandem nodes as separate processes on one fresh PostgreSQL database and the machine's
 * Redis (a key prefix of their own, so parallel runs never meet), for multi-node tests.
 */
import { randomBytes } from 'node:crypto';
import { createPostgresTestDatabase, type TestDatabase } from '@tandem/db/testing';
import { TandemNode } from './TandemNode.ts';

/** The machine's Redis (CI starts it); override with TEST_REDIS_URL. */
export const TEST_REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

export class TandemCluster {
  readonly nodes: TandemNode[] = [];

  private constructor(
    readonly database: TestDatabase,
    /** What every node shares: database, Redis, prefix and secret. */
    readonly env: Record<string, string>,
  ) {}

  static async start(count: number, extraEnv: Record<string, string> = {}): Promise<TandemCluster> {
    const database = await createPostgresTestDatabase();
    const env = {
      DATABASE_URL: database.location,
      REDIS_URL: TEST_REDIS_URL,
      TANDEM_REDIS_PREFIX: `tandem-test:${randomBytes(6).toString('hex')}:`,
      TANDEM_SECRET: randomBytes(32).toString('base64url'),
      ...extraEnv,
    };
    const cluster = new TandemCluster(database, env);
    try {
      // The first node applies the migrations; the others then start in parallel.
      cluster.nodes.push(await TandemNode.start({ ...env, TANDEM_NODE_ID: 'node-0' }));
      const rest = await Promise.all(Array.from({ length: count - 1 }, (_, i) => TandemNode.start({ ...env, TANDEM_NODE_ID: `node-${i + 1}` })));
      cluster.nodes.push(...rest);
    } catch (error) {
      await cluster.destroy();
      throw error;
    }
    return cluster;
  }

  /** Restarts node `index` (same environment and data directory) after it stopped. */
  async restart(index: number): Promise<TandemNode> {
    const node = await this.nodes[index]!.restart();
    this.nodes[index] = node;
    return node;
  }

  async destroy(): Promise<void> {
    await Promise.all(this.nodes.map((n) => n.stop('SIGKILL')));
    for (const node of this.nodes) node.removeDataDir();
    await this.database.destroy();
  }
}
