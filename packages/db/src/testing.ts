import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { openDatabase, type Database } from './openDatabase.ts';

/** The machine's PostgreSQL (CI starts it); override with TEST_POSTGRES_URL. */
export const TEST_POSTGRES_ADMIN_URL = process.env.TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

export interface TestDatabase extends Database {
  /** Connection URL (postgres) or data directory (pglite) — what another process would open. */
  location: string;
  destroy(): Promise<void>;
}

/** A fresh, migrated embedded database in a temp directory. */
export async function createPGliteTestDatabase(): Promise<TestDatabase> {
  const dataDir = mkdtempSync(join(tmpdir(), 'tandem-db-'));
  const db = await openDatabase({ dataDir });
  return { ...db, location: dataDir, destroy: async () => { await db.close(); rmSync(dataDir, { recursive: true, force: true }); } };
}

/**
 * A fresh, migrated database on the real PostgreSQL server. Fails with a clear message when the
 * server is unreachable: Postgres-mode tests never silently skip.
 */
export async function createPostgresTestDatabase(): Promise<TestDatabase> {
  const name = `tandem_test_${Date.now().toString(36)}_${Math.random().toString(36).slice(2, 8)}`;
  const admin = new pg.Client({ connectionString: TEST_POSTGRES_ADMIN_URL });
  try {
    await admin.connect();
  } catch (e) {
    throw new Error(
      `PostgreSQL is not reachable at ${TEST_POSTGRES_ADMIN_URL} (${(e as Error).message}). ` +
        'Start it with: pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start',
    );
  }
  await admin.query(`CREATE DATABASE "${name}"`);
  await admin.end();
  const url = new URL(TEST_POSTGRES_ADMIN_URL);
  url.pathname = `/${name}`;
  const db = await openDatabase({ url: url.toString(), dataDir: '' });
  return {
    ...db,
    location: url.toString(),
    async destroy() {
      await db.close();
      const a = new pg.Client({ connectionString: TEST_POSTGRES_ADMIN_URL });
      await a.connect();
      await a.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      await a.end();
    },
  };
}

export const TEST_BACKENDS = [
  { name: 'pglite', create: createPGliteTestDatabase },
  { name: 'postgres', create: createPostgresTestDatabase },
] as const;
