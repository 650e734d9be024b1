/** Applies pending migrations to DATABASE_URL, or to the embedded database in TANDEM_DATA_DIR (default .data). */
import { resolve } from 'node:path';
import { openDatabase } from '../src/openDatabase.ts';

const db = await openDatabase({ url: process.env.DATABASE_URL || undefined, dataDir: resolve(process.env.TANDEM_DATA_DIR ?? '../../.data') });
console.log(db.appliedMigrations.length ? `Applied: ${db.appliedMigrations.join(', ')}` : 'Database is up to date.');
await db.close();
