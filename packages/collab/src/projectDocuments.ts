import * as Y from 'yjs';
import { FILE_TEXT, TREE_MAP, type TreeEntry } from '@tandem/protocol';

/**
 * The document model. A project's file tree is one Y.Doc with a Y.Map `files` (fileId → TreeEntry);
 * every file's content is its own Y.Doc with a Y.Text `content`. Entries are replaced whole on
 * rename/move, so concurrent renames resolve last-writer-wins per file.
 */
export function textOf(doc: Y.Doc): Y.Text {
  return doc.getText(FILE_TEXT);
}

export function treeOf(doc: Y.Doc): Y.Map<TreeEntry> {
  return doc.getMap<TreeEntry>(TREE_MAP);
}

/** A file document holding `text`, encoded as one Yjs update (what the store keeps as a snapshot). */
export function encodeTextDocument(text: string): Uint8Array {
  const doc = new Y.Doc();
  textOf(doc).insert(0, text);
  const update = Y.encodeStateAsUpdate(doc);
  doc.destroy();
  return update;
}

export function encodeTreeDocument(entries: Record<string, TreeEntry>): Uint8Array {
  const doc = new Y.Doc();
  const tree = treeOf(doc);
  doc.transact(() => {
    for (const [id, e] of Object.entries(entries)) tree.set(id, e);
  });
  const update = Y.encodeStateAsUpdate(doc);
  doc.destroy();
  return update;
}

/** Applies stored updates (snapshot first) to a fresh doc. */
export function docFromUpdates(updates: Iterable<Uint8Array>): Y.Doc {
  const doc = new Y.Doc();
  for (const u of updates) Y.applyUpdate(doc, u);
  return doc;
}

export function readText(updates: Iterable<Uint8Array>): string {
  const doc = docFromUpdates(updates);
  const s = textOf(doc).toString();
  doc.destroy();
  return s;
}

export function readTree(updates: Iterable<Uint8Array>): Record<string, TreeEntry> {
  const doc = docFromUpdates(updates);
  const out = Object.fromEntries(treeOf(doc).entries());
  doc.destroy();
  return out;
}

/** Merges Yjs updates (V1) into one: what a multi-node store needs to compact safely (PrismaDocumentStore). */
export function mergeUpdates(updates: Uint8Array[]): Uint8Array {
  return Y.mergeUpdates(updates);
}
