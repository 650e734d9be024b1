import { join } from 'node:path';
import type { PGlite } from '@electric-sql/pglite';
import { PrismaPGlite } from 'pglite-prisma-adapter';
import { PrismaPg } from '@prisma/adapter-pg';
import pg from 'pg';
import { PrismaClient } from './generated/client.ts';
import { DataDirLock } from './DataDirLock.ts';
import { applyMigrations, type SqlRunner } from './migrations.ts';
import { PGliteWorkerClient } from './PGliteWorkerClient.ts';

export interface DatabaseConfig {
  /** postgres:// URL of a PostgreSQL server; when absent the embedded PGlite database is used. */
  url?: string | undefined;
  /** Directory for the embedded database (ignored with `url`). */
  dataDir: string;
  /** Apply pending migrations on open (default true). */
  migrate?: boolean;
}

export type RawQuery = <T>(sql: string, params: unknown[]) => Promise<T[]>;

export interface Database {
  kind: 'pglite' | 'postgres';
  prisma: PrismaClient;
  /** Migrations applied by this open (names). */
  appliedMigrations: string[];
  /**
   * Runs one SQL statement on the same database without Prisma, for hot paths (the embedded
   * database's own client: Prisma's layer cost more than PGlite's own work for a small INSERT).
   * Serialized with Prisma's queries and transactions by PGlite (in its worker). Absent for PostgreSQL.
   */
  rawQuery?: RawQuery;
  close(): Promise<void>;
}

/** Opens the configured database, applies pending migrations, and returns a Prisma client. */
export async function openDatabase(config: DatabaseConfig): Promise<Database> {
  return config.url ? openPostgres(config.url, config.migrate ?? true) : openPGlite(config.dataDir, config.migrate ?? true);
}

async function openPGlite(dataDir: string, migrate: boolean): Promise<Database> {
  // An empty dataDir would put a live database in the current directory (once, the source tree).
  if (!dataDir) throw new Error('openDatabase: dataDir is required for the embedded database');
  const lock = DataDirLock.acquire(join(dataDir, 'pglite.lock'));
  try {
    // In a worker thread: PGlite executes SQL and writes its files synchronously, which on the
    // server's event loop stalled every client while a large change was stored.
    const client = await PGliteWorkerClient.open(join(dataDir, 'pglite'));
    const runner: SqlRunner = {
      exec: async (sql) => void (await client.exec(sql)),
      query: async <T>(sql: string, params?: unknown[]) => (await client.query<T>(sql, params)).rows,
      transaction: (fn) => client.transaction((tx) => fn({
        exec: async (sql) => void (await tx.exec(sql)),
        query: async <T>(sql: string, params?: unknown[]) => (await tx.query<T>(sql, params)).rows,
        transaction: () => Promise.reject(new Error('nested transaction')),
      })),
    };
    let appliedMigrations: string[] = [];
    try {
      if (migrate) appliedMigrations = await applyMigrations(runner);
    } catch (e) {
      await client.close(); // the worker would keep the process alive
      throw e;
    }
    // The adapter uses only the part of PGlite's interface the worker client implements.
    const prisma = new PrismaClient({ adapter: new PrismaPGlite(client as unknown as PGlite) });
    return {
      kind: 'pglite',
      prisma,
      appliedMigrations,
      rawQuery: async <T>(sql: string, params: unknown[]) => (await client.query<T>(sql, params)).rows,
      async close() {
        await prisma.$disconnect();
        await client.close();
        lock.release();
      },
    };
  } catch (e) {
    lock.release();
    throw e;
  }
}

async function openPostgres(url: string, migrate: boolean): Promise<Database> {
  let appliedMigrations: string[] = [];
  if (migrate) {
    const client = new pg.Client({ connectionString: url });
    try {
      await client.connect();
    } catch (e) {
      throw new Error(`Cannot connect to PostgreSQL at ${redact(url)}: ${(e as Error).message}`);
    }
    const asRunner = (c: pg.Client): SqlRunner => ({
      exec: async (sql) => void (await c.query(sql)),
      query: async <T>(sql: string, params?: unknown[]) => (await c.query(sql, params)).rows as T[],
      transaction: async (fn) => {
        await c.query('BEGIN');
        try {
          await fn(asRunner(c));
          await c.query('COMMIT');
        } catch (e) {
          await c.query('ROLLBACK');
          throw e;
        }
      },
    });
    try {
      appliedMigrations = await applyMigrations(asRunner(client));
    } finally {
      await client.end();
    }
  }
  const prisma = new PrismaClient({ adapter: new PrismaPg({ connectionString: url }) });
  return { kind: 'postgres', prisma, appliedMigrations, close: () => prisma.$disconnect() };
}

function redact(url: string): string {
  return url.replace(/\/\/([^:@/]+):[^@/]*@/, '//$1:***@');
}
