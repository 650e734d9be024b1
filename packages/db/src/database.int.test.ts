// One contract suite, run against every backend: embedded PGlite and the real PostgreSQL server.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TEST_BACKENDS, type TestDatabase } from './testing.ts';
import { openDatabase } from './openDatabase.ts';
import { applyMigrations, readMigrations } from './migrations.ts';
import { PrismaDocumentStore } from './PrismaDocumentStore.ts';
import pg from 'pg';
import * as Y from 'yjs';

/** One author's Y.Text: each insert returns its update. */
class TextWriter {
  private readonly doc = new Y.Doc();

  insert(text: string): Uint8Array {
    const before = Y.encodeStateVector(this.doc);
    const t = this.doc.getText('t');
    t.insert(t.length, text);
    return Y.encodeStateAsUpdate(this.doc, before);
  }

  state(): Uint8Array {
    return Y.encodeStateAsUpdate(this.doc);
  }
}

function textOf(stored: { snapshot: Uint8Array | null; updates: Uint8Array[] }): string {
  const doc = new Y.Doc();
  if (stored.snapshot) Y.applyUpdate(doc, stored.snapshot);
  for (const u of stored.updates) Y.applyUpdate(doc, u);
  return doc.getText('t').toString();
}

for (const backend of TEST_BACKENDS) {
  describe(`database contract: ${backend.name}`, () => {
    let db: TestDatabase;
    before(async () => { db = await backend.create(); });
    after(async () => { await db?.destroy(); });

    test('migrations are applied and recorded in _prisma_migrations', async () => {
      assert.deepEqual(db.appliedMigrations, readMigrations().map((m) => m.name));
      const rows = await db.prisma.$queryRawUnsafe<{ migration_name: string }[]>('SELECT migration_name FROM "_prisma_migrations"');
      assert.deepEqual(rows.map((r) => r.migration_name).sort(), readMigrations().map((m) => m.name));
    });

    test('users, projects, memberships with unique and cascade rules', async () => {
      const u = await db.prisma.user.create({ data: { email: `a-${backend.name}@x.io`, name: 'A', passwordHash: 'h' } });
      await assert.rejects(db.prisma.user.create({ data: { email: `a-${backend.name}@x.io`, name: 'B', passwordHash: 'h' } }), /Unique constraint/);
      const p = await db.prisma.project.create({ data: { name: 'P', memberships: { create: { userId: u.id, role: 'owner' } } } });
      const m = await db.prisma.membership.findUniqueOrThrow({ where: { projectId_userId: { projectId: p.id, userId: u.id } } });
      assert.equal(m.role, 'owner');
      await db.prisma.project.delete({ where: { id: p.id } });
      assert.equal(await db.prisma.membership.count({ where: { projectId: p.id } }), 0);
    });

    test('a failed transaction stores nothing and the database stays usable; constraint errors keep their kind', async () => {
      const email = `tx-${backend.name}@x.io`;
      await assert.rejects(db.prisma.$transaction(async (tx) => {
        await tx.user.create({ data: { email, name: 'T', passwordHash: 'h' } });
        throw new Error('abort');
      }), /abort/);
      assert.equal(await db.prisma.user.count({ where: { email } }), 0);
      await assert.rejects(db.prisma.$transaction(async (tx) => {
        await tx.user.create({ data: { email, name: 'T', passwordHash: 'h' } });
        await tx.user.create({ data: { email, name: 'T', passwordHash: 'h' } });
      }), { code: 'P2002' });
      assert.equal(await db.prisma.user.count({ where: { email } }), 0);
      await db.prisma.user.create({ data: { email, name: 'T', passwordHash: 'h' } });
      assert.equal(await db.prisma.user.count({ where: { email } }), 1);
    });

    test('document update log keeps bytes exactly and in order', async () => {
      const p = await db.prisma.project.create({ data: { name: 'Docs' } });
      const name = `${p.id}/tree`;
      await db.prisma.document.create({ data: { name, projectId: p.id } });
      const payloads = [new Uint8Array([0, 1, 2, 255]), new Uint8Array(70_000).fill(7), new Uint8Array([])];
      for (const data of payloads) await db.prisma.documentUpdate.create({ data: { documentName: name, data } });
      const rows = await db.prisma.documentUpdate.findMany({ where: { documentName: name }, orderBy: { id: 'asc' } });
      assert.deepEqual(rows.map((r) => Array.from(r.data)), payloads.map((d) => Array.from(d)));
      assert.ok(rows[0]!.id < rows[1]!.id);
    });

    test('document store: append is ordered and durable, compaction keeps later updates', async () => {
      const p = await db.prisma.project.create({ data: { name: 'Store' } });
      const name = `${p.id}/file/f1`;
      const store = new PrismaDocumentStore(db.prisma, { mergeUpdates: Y.mergeUpdates });
      assert.deepEqual(await store.load(name), { snapshot: null, updates: [], cursor: 0 });
      const writer = new TextWriter();
      const [u1, u2, u3] = [writer.insert('a'), writer.insert('b'), writer.insert('c')];
      const c1 = await store.append(name, [u1, u2]);
      const c2 = await store.append(name, [u3]);
      assert.ok(c2 > c1);
      const fresh = new PrismaDocumentStore(db.prisma, { mergeUpdates: Y.mergeUpdates }); // another node / after restart
      assert.deepEqual(await fresh.load(name), { snapshot: null, updates: [u1, u2, u3], cursor: c2 });
      await store.compact(name, Y.mergeUpdates([u1, u2]), c1);
      const after = await fresh.load(name);
      assert.equal(textOf(after), 'abc');
      assert.deepEqual(after.updates, [u3]);
      assert.equal(after.cursor, c2);
      await store.compact(name, Y.mergeUpdates([u1, u2, u3]), c2);
      const emptied = await fresh.load(name);
      assert.deepEqual(emptied.updates, []);
      assert.equal(emptied.cursor, c2, 'cursor survives a compaction that empties the log');
      assert.equal(textOf(emptied), 'abc');
      await assert.rejects(store.append('not a doc name', [u1]), /Not a document name/);
    });

    test('document store: one append keeps every byte and the order, also past one statement (5,000 rows)', async () => {
      const p = await db.prisma.project.create({ data: { name: 'Batch' } });
      const name = `${p.id}/file/batch`;
      // The embedded database's own client when there is one (PGlite), else Prisma (PostgreSQL).
      assert.equal(db.rawQuery !== undefined, db.kind === 'pglite');
      const store = new PrismaDocumentStore(db.prisma, { rawQuery: db.rawQuery });
      // Bytes a raw query could mangle (NUL, high bytes, a quote, a backslash), an empty update, a large one.
      const odd = [new Uint8Array([0, 255, 39, 92, 0]), new Uint8Array([]), new Uint8Array(70_000).fill(200)];
      const many = Array.from({ length: 5_003 }, (_, i) => new Uint8Array([i & 255, i >> 8, 0]));
      const first = await store.append(name, odd);
      const last = await store.append(name, many);
      assert.ok(last > first, 'cursor of the last row');
      const loaded = await new PrismaDocumentStore(db.prisma).load(name);
      assert.equal(loaded.cursor, last);
      assert.equal(typeof last, 'number');
      assert.deepEqual(loaded.updates.map((u) => Array.from(u)), [...odd, ...many].map((u) => Array.from(u)));
    });

    test('single-node compaction writes the given snapshot and drops the log up to `through`', async () => {
      const p = await db.prisma.project.create({ data: { name: 'Single' } });
      const name = `${p.id}/file/solo`;
      const store = new PrismaDocumentStore(db.prisma);
      const c1 = await store.append(name, [new Uint8Array([1]), new Uint8Array([2])]);
      const c2 = await store.append(name, [new Uint8Array([3])]);
      await store.compact(name, new Uint8Array([7, 7]), c1);
      const after = await store.load(name);
      assert.deepEqual(Array.from(after.snapshot!), [7, 7]);
      assert.deepEqual(after.updates.map((u) => Array.from(u)), [[3]]);
      assert.equal(after.cursor, c2);
    });

    test('compaction by a node that missed updates loses nothing (several nodes)', async () => {
      const p = await db.prisma.project.create({ data: { name: 'Race' } });
      const name = `${p.id}/file/race`;
      const nodeA = new PrismaDocumentStore(db.prisma, { mergeUpdates: Y.mergeUpdates });
      const nodeB = new PrismaDocumentStore(db.prisma, { mergeUpdates: Y.mergeUpdates });
      const alice = new TextWriter();
      const bob = new TextWriter();
      await nodeA.append(name, [alice.insert('A1 ')]);
      // Bob's update (lower id) reached the database but not yet node A's memory.
      await nodeB.append(name, [bob.insert('B1 ')]);
      const through = await nodeA.append(name, [alice.insert('A2 ')]);
      await nodeA.compact(name, alice.state(), through);
      const afterA = await nodeB.load(name);
      assert.deepEqual(afterA.updates, []);
      assert.equal(afterA.cursor, through);
      assert.match(textOf(afterA), /B1/, 'the update node A had not seen was merged into the snapshot');
      // Node B compacts with an older view (without A2): the stored snapshot is merged, not replaced.
      const later = await nodeB.append(name, [bob.insert('B2 ')]);
      await nodeB.compact(name, bob.state(), later);
      const final = textOf(await nodeA.load(name));
      for (const part of ['A1', 'A2', 'B1', 'B2']) assert.ok(final.includes(part), `${part} survives in ${JSON.stringify(final)}`);
    });

    if (backend.name === 'postgres') {
      test('an update committed later with a lower id survives a compaction past it', async () => {
        const p = await db.prisma.project.create({ data: { name: 'Late' } });
        const name = `${p.id}/file/late`;
        const store = new PrismaDocumentStore(db.prisma, { mergeUpdates: Y.mergeUpdates });
        const writer = new TextWriter();
        await store.append(name, [writer.insert('x')]);
        const late = new TextWriter().insert('LATE');
        const other = new pg.Client({ connectionString: db.location });
        await other.connect();
        try {
          await other.query('BEGIN');
          // Takes its id now, commits after the compaction below (a slow append on another node).
          const { rows } = await other.query<{ id: string }>('INSERT INTO "DocumentUpdate" ("documentName", data) VALUES ($1, $2) RETURNING id', [name, Buffer.from(late)]);
          const through = await store.append(name, [writer.insert('y')]);
          assert.ok(BigInt(rows[0]!.id) < BigInt(through));
          await store.compact(name, writer.state(), through);
          await other.query('COMMIT');
        } finally {
          await other.end();
        }
        const loaded = await store.load(name);
        assert.equal(loaded.updates.length, 1, 'the late update is still in the log');
        assert.ok(textOf(loaded).includes('LATE'));
        assert.ok(textOf(loaded).includes('xy'));
      });

      test('only one node at a time compacts a document', async () => {
        const p = await db.prisma.project.create({ data: { name: 'Lock' } });
        const name = `${p.id}/file/lock`;
        const store = new PrismaDocumentStore(db.prisma, { mergeUpdates: Y.mergeUpdates });
        const writer = new TextWriter();
        const through = await store.append(name, [writer.insert('q')]);
        const other = new pg.Client({ connectionString: db.location });
        await other.connect();
        try {
          await other.query('BEGIN');
          await other.query('SELECT pg_advisory_xact_lock(7321005, hashtext($1))', [name]);
          await store.compact(name, writer.state(), through); // another node holds the lock: skipped
          assert.equal((await store.load(name)).updates.length, 1);
          await other.query('COMMIT');
        } finally {
          await other.end();
        }
        await store.compact(name, writer.state(), through);
        assert.equal((await store.load(name)).updates.length, 0);
      });
    }

    test('re-applying migrations is a no-op; a changed migration is refused', async () => {
      if (backend.name === 'postgres') {
        const db2 = await openDatabase({ url: db.location, dataDir: '' });
        assert.deepEqual(db2.appliedMigrations, []);
        await db2.close();
      }
      const tampered = readMigrations().map((m, i) => (i === 0 ? { ...m, checksum: 'x'.repeat(64) } : m));
      const runner = {
        exec: async (sql: string) => void (await db.prisma.$executeRawUnsafe(sql)),
        query: async <T,>(sql: string, params: unknown[] = []) => db.prisma.$queryRawUnsafe<T[]>(sql, ...params),
        transaction: async (fn: (tx: never) => Promise<void>) => fn(runner as never),
      };
      await assert.rejects(applyMigrations(runner, tampered), /changed after it was applied/);
    });
  });
}

test('a second process cannot open the same embedded data directory', async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'tandem-lock-'));
  const db = await openDatabase({ dataDir });
  // Simulate another live process holding the lock: our parent's pid is alive.
  await db.close();
  writeFileSync(join(dataDir, 'pglite.lock'), String(process.ppid));
  await assert.rejects(openDatabase({ dataDir }), /in use by another Tandem process/);
  // A stale lock (dead pid) is taken over.
  writeFileSync(join(dataDir, 'pglite.lock'), '999999');
  const again = await openDatabase({ dataDir });
  assert.deepEqual(again.appliedMigrations, [], 'reopening applies nothing twice');
  await again.close();
});

test('the embedded database runs in a worker that does not keep an idle process alive; what it stored is there after a reopen', async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'tandem-worker-'));
  // A script that opens the database, writes, and never closes it: it must still exit.
  const script = `import { openDatabase } from ${JSON.stringify(join(import.meta.dirname, 'openDatabase.ts'))};
    const db = await openDatabase({ dataDir: ${JSON.stringify(dataDir)} });
    await db.prisma.user.create({ data: { email: 'idle@x.io', name: 'I', passwordHash: 'h' } });`;
  const file = join(mkdtempSync(join(tmpdir(), 'tandem-worker-script-')), 'open.mts');
  writeFileSync(file, script);
  const child = spawn(process.execPath, ['--import', 'tsx', file], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  const code = await new Promise<number | null>((resolve) => {
    const timer = setTimeout(() => { child.kill('SIGKILL'); resolve(null); }, 60_000);
    child.once('exit', (c) => { clearTimeout(timer); resolve(c); });
  });
  assert.equal(code, 0, `the process exits by itself (${stderr})`);
  const db = await openDatabase({ dataDir }); // its lock's owner is gone: taken over
  assert.equal(await db.prisma.user.count({ where: { email: 'idle@x.io' } }), 1);
  await db.close();
});
