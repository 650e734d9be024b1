import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as Y from 'yjs';
import { AppError, TREE_MAP, type TreeEntry } from '@tandem/protocol';
import { ClientUpdate, countItems, structsBound } from './clientUpdate.ts';
import { limitTreeEntries, treeChange } from './treeLimits.ts';
import { SeededRandom, testSeed } from './testing/SeededRandom.ts';

const entry = (path: string): TreeEntry => ({ path, kind: 'file' });
const tree = (doc: Y.Doc) => doc.getMap<TreeEntry>(TREE_MAP);

/** Applies `update` to a copy of `server`: the ground truth treeChange must predict without applying. */
function sizeAfter(server: Y.Doc, update: Uint8Array): number {
  const copy = new Y.Doc();
  Y.applyUpdate(copy, Y.encodeStateAsUpdate(server));
  Y.applyUpdate(copy, update);
  const size = tree(copy).size;
  copy.destroy();
  return size;
}

test('treeChange predicts the entry count of random tree updates without applying them: exactly, or never fewer when concurrent (SEED=… replays)', (t) => {
  const seed = testSeed();
  t.diagnostic(`SEED=${seed}`);
  const random = new SeededRandom(seed);
  const server = new Y.Doc();
  const clients = [new Y.Doc(), new Y.Doc(), new Y.Doc()];
  const keys = Array.from({ length: 12 }, (_, i) => `k${i}`);
  for (let step = 0; step < 400; step++) {
    const client = random.pick(clients);
    const before = Y.encodeStateVector(server);
    const caughtUp = Y.encodeStateVector(client).every((b, i) => b === before[i]) && Y.encodeStateVector(client).length === before.length;
    client.transact(() => {
      for (let n = 1 + random.int(4); n > 0; n--) {
        const key = random.pick(keys);
        if (random.int(3) === 0) tree(client).delete(key);
        else tree(client).set(key, entry(random.word(6)));
      }
    });
    // Sometimes the whole state (as in sync step 2, repeating what the server has), else the news.
    const update = random.int(4) === 0 ? Y.encodeStateAsUpdate(client) : Y.encodeStateAsUpdate(client, before);
    const { decoded } = new ClientUpdate(update);
    assert.equal(countItems(update, Infinity), decoded.structs.filter((s) => s instanceof Y.Item).length);
    const predicted = treeChange(server, decoded);
    assert.equal(predicted.entriesBefore, tree(server).size, `step ${step}`);
    // Exact for a client that saw everything the server has; a concurrent write to a key whose value
    // was deleted may lose to it (Yjs deletes the loser), and is counted as an addition (never fewer).
    const actual = sizeAfter(server, update);
    if (caughtUp) assert.equal(predicted.entriesAfter, actual, `step ${step} (SEED=${seed})`);
    else assert.ok(predicted.entriesAfter >= actual, `step ${step}: ${predicted.entriesAfter} < ${actual} (SEED=${seed})`);
    Y.applyUpdate(server, update);
    // Clients catch up now and then, so their updates are concurrent with the server's state.
    for (const other of clients) if (random.int(3) === 0) Y.applyUpdate(other, Y.encodeStateAsUpdate(server));
  }
});

test('the cap refuses a bulk update and the entry past it, and lets renames and deletions through at the cap', () => {
  const check = limitTreeEntries(3);
  const server = new Y.Doc();
  const validate = (update: Uint8Array) =>
    check({ documentName: 'p/tree', document: { kind: 'tree', projectId: 'p' }, ydoc: server, update, decoded: new ClientUpdate(update).decoded, user: { id: 'u', name: 'U' } });
  /** What `writer` changes, validated, then applied on the server (not applied if refused). */
  const send = (writer: Y.Doc, change: () => void) => {
    const before = Y.encodeStateVector(writer);
    change();
    const update = Y.encodeStateAsUpdate(writer, before);
    validate(update);
    Y.applyUpdate(server, update);
  };
  const refused = (e: unknown) => e instanceof AppError && e.code === 'TOO_LARGE' && /at most 3 files and folders/.test(e.message);

  const bulk = new Y.Doc();
  bulk.transact(() => {
    for (let i = 0; i < 1000; i++) tree(bulk).set(`b${i}`, entry(`bulk/${i}`));
  });
  assert.throws(() => validate(Y.encodeStateAsUpdate(bulk)), refused);

  const client = new Y.Doc();
  send(client, () => client.transact(() => ['a', 'b', 'c'].forEach((k) => tree(client).set(k, entry(k)))));
  assert.throws(() => send(client, () => tree(client).set('d', entry('d'))), refused);
  // The refused 'd' stays with that client: a fresh one continues from the server's state.
  const writer = new Y.Doc();
  Y.applyUpdate(writer, Y.encodeStateAsUpdate(server));
  send(writer, () => tree(writer).set('a', entry('renamed')));
  send(writer, () => writer.transact(() => {
    tree(writer).delete('b');
    tree(writer).set('e', entry('e'));
  }));
  send(writer, () => tree(writer).delete('c'));
  assert.deepEqual([...tree(server).keys()].sort(), ['a', 'e']);
});

test('countItems reads every kind of content as Yjs does, and stops once past its limit', () => {
  const doc = new Y.Doc();
  doc.transact(() => {
    const text = doc.getText('t');
    text.insert(0, 'héllo 😀 world');
    text.format(1, 3, { bold: true });
    text.insertEmbed(2, { image: 'x.png' });
    text.delete(0, 2);
    const map = doc.getMap('m');
    map.set('n', 1);
    map.set('o', { deep: [1, 'two', null, true, { x: 2.5 }] });
    map.set('bin', new Uint8Array([1, 2, 3]));
    map.set('nested', new Y.Map());
    map.set('sub', new Y.Doc());
    const array = doc.getArray('a');
    array.push([1, 2, 3, 'four', new Y.Array(), new Y.Text('inner')]);
    const xml = doc.getXmlFragment('x');
    const element = new Y.XmlElement('p');
    xml.push([element, new Y.XmlText('t')]);
    element.setAttribute('class', 'c');
    map.delete('n');
  });
  const update = Y.encodeStateAsUpdate(doc);
  const items = Y.decodeUpdate(update).structs.filter((s) => s instanceof Y.Item).length;
  assert.ok(items > 10);
  assert.equal(countItems(update, Infinity), items);
  assert.equal(countItems(update, 3), 4, 'stops reading at limit + 1');
  assert.equal(structsBound(update), Y.decodeUpdate(update).structs.length, 'one client: its header gives its structs');
  const other = new Y.Doc();
  other.getText('t').insert(0, 'x');
  assert.equal(structsBound(Y.mergeUpdates([update, Y.encodeStateAsUpdate(other)])), Infinity, 'several clients: unknown from the header');
  assert.throws(() => countItems(update.slice(0, update.length / 2), Infinity), (e) => e instanceof AppError && e.code === 'BAD_INPUT');
});
