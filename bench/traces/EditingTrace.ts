import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { gunzipSync } from 'node:zlib';
import type * as Y from 'yjs';

/** A josephg/editing-traces file: every transaction's patches applied in order to startContent give endContent. */
export interface EditingTrace {
  name: string;
  startContent: string;
  endContent: string;
  txns: { patches: [number, number, string][] }[];
}

export const TRACES_DIRECTORY = resolve(import.meta.dirname, '../../../shared/fixtures/editing-traces');

/** Reads a trace; with `limit`, only its first `limit` transactions (endContent is then recomputed). */
export function readTrace(name: string, limit: number | null): EditingTrace {
  const full = JSON.parse(gunzipSync(readFileSync(resolve(TRACES_DIRECTORY, `${name}.json.gz`))).toString('utf8')) as Omit<EditingTrace, 'name'>;
  if (limit === null || limit >= full.txns.length) return { name, ...full };
  const txns = full.txns.slice(0, limit);
  let text = full.startContent;
  for (const { patches } of txns) {
    for (const [position, deleteCount, insert] of patches) text = text.slice(0, position) + insert + text.slice(position + deleteCount);
  }
  return { name, startContent: full.startContent, endContent: text, txns };
}

/** Applies one trace transaction to `text` as one Yjs transaction. */
export function applyTransaction(doc: Y.Doc, text: Y.Text, patches: [number, number, string][]): void {
  doc.transact(() => {
    for (const [position, deleteCount, insert] of patches) {
      if (deleteCount > 0) text.delete(position, deleteCount);
      if (insert) text.insert(position, insert);
    }
  });
}
