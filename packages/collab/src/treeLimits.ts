import * as Y from 'yjs';
import { AppError } from '@tandem/protocol';
import type { ValidateUpdateHook } from './SyncExtension.ts';
import { treeOf } from './projectDocuments.ts';

/**
 * A validateUpdate hook capping the entries (files and folders) of every project tree document at
 * `max`: an update that would grow a tree past it is refused (4413 with a message naming the
 * limit) before it is applied. Cheap for ordinary edits: an update adds at most one entry per
 * struct it carries, so the tree is only re-measured on a copy when the count could exceed `max`.
 * Updates that do not grow the tree (renames, deletions) always pass, even over the limit.
 */
export function limitTreeEntries(max: number): ValidateUpdateHook {
  return ({ document, ydoc, update }) => {
    if (document.kind !== 'tree') return;
    const current = treeOf(ydoc).size;
    if (current + Y.decodeUpdate(update).structs.length <= max) return;
    const copy = new Y.Doc({ gc: false });
    try {
      Y.applyUpdate(copy, Y.encodeStateAsUpdate(ydoc));
      Y.applyUpdate(copy, update);
      const after = treeOf(copy).size;
      if (after > max && after > current) {
        throw new AppError('TOO_LARGE', `A project holds at most ${max} files and folders: the change was not saved.`);
      }
    } finally {
      copy.destroy();
    }
  };
}
