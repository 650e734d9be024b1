/**
 * Creates a new migration offline: diffs "all committed migrations" (replayed on an in-memory
 * PGlite shadow database) against prisma/schema.prisma with Prisma's schema engine (WASM build),
 * and writes prisma/migrations/<timestamp>_<name>/migration.sql.
 * The Prisma CLI cannot do this here (it downloads a native engine at start-up).
 *
 *   npm run db:migration:create -- <name>
 */
import { readFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { PrismaPGlite } from 'pglite-prisma-adapter';
import { bindMigrationAwareSqlAdapterFactory } from '@prisma/driver-adapter-utils';
import { MIGRATIONS_DIR, SCHEMA_PATH, readMigrations } from '../src/migrations.ts';

const name = (process.argv[2] ?? '').replace(/[^a-z0-9_]/gi, '_').toLowerCase();
if (!name) {
  console.error('usage: npm run db:migration:create -- <name>');
  process.exit(2);
}

async function loadSchemaEngine() {
  const bg = await import('@prisma/schema-engine-wasm/schema_engine_bg');
  const wasmPath = join(import.meta.dirname, '../../../node_modules/@prisma/schema-engine-wasm/schema_engine_bg.wasm');
  const { instance } = await WebAssembly.instantiate(readFileSync(wasmPath), {
    './schema_engine_bg.js': bg as unknown as WebAssembly.ModuleImports,
  });
  bg.__wbg_set_wasm(instance.exports);
  (instance.exports.__wbindgen_start as () => void)();
  return bg.SchemaEngine;
}

const schema = readFileSync(SCHEMA_PATH, 'utf8');
const SchemaEngine = await loadSchemaEngine();
const adapterFactory = bindMigrationAwareSqlAdapterFactory(new PrismaPGlite(new PGlite()));
const engine = await SchemaEngine.new(
  { datamodels: [[SCHEMA_PATH, schema]] },
  (log: string) => process.env.DEBUG && console.error(log),
  adapterFactory,
);
const migrations = readMigrations();
const result = await engine.diff({
  from: {
    tag: 'migrations',
    baseDir: MIGRATIONS_DIR,
    lockfile: { path: 'migration_lock.toml', content: 'provider = "postgresql"\n' },
    shadowDbInitScript: '',
    migrationDirectories: migrations.map((m) => ({
      path: m.name,
      migrationFile: { path: 'migration.sql', content: { tag: 'ok', value: m.sql } },
    })),
  },
  to: { tag: 'schemaDatamodel', files: [{ path: SCHEMA_PATH, content: schema }] },
  script: true,
  exitCode: null,
  filters: { externalTables: [], externalEnums: [] },
});
const sql = (result.stdout ?? '').trim();
if (!sql || /^-- This is an empty migration/.test(sql)) {
  console.log('Schema and migrations are in sync: no migration created.');
  process.exit(0);
}
const stamp = new Date().toISOString().replace(/\D/g, '').slice(0, 14);
const dir = join(MIGRATIONS_DIR, `${stamp}_${name}`);
mkdirSync(dir, { recursive: true });
writeFileSync(join(dir, 'migration.sql'), sql + '\n');
writeFileSync(join(MIGRATIONS_DIR, 'migration_lock.toml'), '# Managed by @tandem/db\nprovider = "postgresql"\n');
console.log(`Created ${dir}/migration.sql (${sql.split('\n').length} lines)`);
