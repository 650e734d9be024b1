import * as Y from 'yjs';
import { FILE_TEXT } from '@tandem/protocol';
import type { DocumentStore } from '../DocumentStore.ts';

/** Rebuilds a document from the store, the way a fresh server would, and returns its text. */
export async function storedText(store: DocumentStore, documentName: string): Promise<string> {
  const stored = await store.load(documentName);
  const doc = new Y.Doc();
  doc.transact(() => {
    if (stored.snapshot) Y.applyUpdate(doc, stored.snapshot);
    for (const update of stored.updates) Y.applyUpdate(doc, update);
  });
  const text = doc.getText(FILE_TEXT).toString();
  doc.destroy();
  return text;
}
