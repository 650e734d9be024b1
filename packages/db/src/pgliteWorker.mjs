// Owns the embedded database (PGlite) in a worker thread, so its query execution and its
// synchronous file writes never block the server's event loop. Plain JavaScript: tsx does not
// register its loader in worker threads. The main-thread side is PGliteWorkerClient.ts.
import { parentPort, workerData } from 'node:worker_threads';
import { PGlite, messages, types } from '@electric-sql/pglite';

const db = await PGlite.create(workerData.dataDir);
// PGlite's own bytea conversions go byte by byte in JavaScript (a 1 MiB change cost ~100 ms each
// way): results are decoded natively, parameters go to PostgreSQL as they are (binary format).
db.parsers[types.BYTEA] = (hex) => Buffer.from(hex.slice(2), 'hex');
db.serializers[types.BYTEA] = (bytes) => bytes;
/** Open transactions: id → { tx, end(commit), chain (this transaction's operations, in order) }. */
const transactions = new Map();
let nextTransactionId = 1;

/** Per set of OIDs the caller parses itself: parsers that leave those values as text (bytea excepted). */
const rawParsers = new Map();

function parsersFor(raw) {
  const key = raw.join(',');
  let parsers = rawParsers.get(key);
  if (!parsers) {
    parsers = {};
    for (const oid of raw) if (oid !== types.BYTEA) parsers[oid] = (text) => text;
    rawParsers.set(key, parsers);
  }
  return parsers;
}

async function run(msg) {
  const target = msg.tx ? transactions.get(msg.tx)?.tx : db;
  if (!target) throw new Error(`transaction ${msg.tx} is not open`);
  switch (msg.op) {
    case 'query': {
      const r = await target.query(msg.sql, msg.params, { rowMode: 'array', ...(msg.raw ? { parsers: parsersFor(msg.raw) } : {}) });
      return { rows: r.rows, fields: r.fields, affectedRows: r.affectedRows };
    }
    case 'exec':
      return (await target.exec(msg.sql)).map((r) => ({ rows: r.rows, fields: r.fields, affectedRows: r.affectedRows }));
    case 'rollback':
      return void (await target.rollback());
    default:
      throw new Error(`unknown operation ${msg.op}`);
  }
}

function begin(reply) {
  const id = nextTransactionId++;
  let began = false;
  db.transaction(
    (tx) =>
      new Promise((resolve, reject) => {
        began = true;
        transactions.set(id, { tx, chain: Promise.resolve(), end: (commit) => (commit ? resolve() : reject(ROLLBACK)) });
        reply({ value: id });
      }),
  ).then(
    () => transactions.get(id)?.ended?.({}),
    (e) => (began ? transactions.get(id)?.ended?.(e === ROLLBACK ? {} : { error: serializeError(e) }) : reply({ error: serializeError(e) })),
  ).finally(() => transactions.delete(id));
}

const ROLLBACK = Symbol('rollback');

/** PostgreSQL's error fields (PGlite also attaches the query's options, which cannot be cloned). */
const ERROR_FIELDS = ['length', 'name', 'severity', 'code', 'detail', 'hint', 'position', 'internalPosition', 'internalQuery',
  'where', 'schema', 'table', 'column', 'dataType', 'constraint', 'file', 'line', 'routine'];

function serializeError(e) {
  if (!(e instanceof Error)) return { message: String(e) };
  const error = { message: e.message, stack: e.stack, database: e instanceof messages.DatabaseError };
  for (const field of ERROR_FIELDS) if (typeof e[field] === 'string' || typeof e[field] === 'number') error[field] = e[field];
  return error;
}

parentPort.on('message', (msg) => {
  const reply = (result) => parentPort.postMessage({ id: msg.id, ...result });
  if (msg.op === 'begin') return begin(reply);
  if (msg.op === 'close') {
    db.close().then(() => reply({}), (e) => reply({ error: serializeError(e) }));
    return;
  }
  const transaction = msg.tx ? transactions.get(msg.tx) : undefined;
  if (msg.op === 'end') {
    if (!transaction) return reply({ error: { message: `transaction ${msg.tx} is not open` } });
    // After this transaction's earlier operations (a rollback the caller did not await).
    transaction.chain.finally(() => {
      transaction.ended = reply;
      transaction.end(msg.commit);
    });
    return;
  }
  const done = (transaction ? transaction.chain : Promise.resolve()).then(() => run(msg)).then(
    (value) => reply({ value }),
    (e) => reply({ error: serializeError(e) }),
  );
  if (transaction) transaction.chain = done;
});

parentPort.postMessage({ ready: true });
