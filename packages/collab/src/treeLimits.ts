import * as Y from 'yjs';
import { AppError, TREE_MAP } from '@tandem/protocol';
import { countItems, structsBound, type DecodedUpdate } from './clientUpdate.ts';
import type { ValidateUpdateHook } from './SyncExtension.ts';
import { treeOf } from './projectDocuments.ts';

/**
 * What a client's update would do to a project tree, read from its decoded structs against the
 * live tree without applying it: O(structs in the update + ranges it deletes), whatever the
 * tree's size. The one place tree updates are judged; add checks of entry values (`written`) here.
 */
export interface TreeChange {
  /** Keys the update would add to the tree, and entries it would remove. */
  added: number;
  removed: number;
  /** Entries (files and folders) the tree holds now: counted when read, O(tree). */
  readonly entriesBefore: number;
  /** Entries it would hold after the update (likewise). */
  readonly entriesAfter: number;
  /** The values the update writes, by entry id (as sent: not yet checked for shape). */
  written: Map<string, unknown>;
}

/**
 * A validateUpdate hook capping the entries (files and folders) of every project tree document at
 * `max`: an update that would grow a tree past it is refused (4413 with a message naming the
 * limit) before it is applied. Updates that do not grow the tree (renames, deletions) pass, even
 * over the limit. The work is bounded by `max`, whatever the update's size: one carrying more than
 * `max` values is refused after reading `max + 1` of them (an honest client's update holds the
 * values it writes, old ones being collected as garbage, so it never holds more than a tree can;
 * its header alone tells when it cannot hold that many); otherwise it is read once (`decoded`) and
 * judged by `treeChange`, without copying the tree. The tree's entries are counted (O(tree)) only
 * when an update grows it and its keys, deleted ones included, could then pass `max`.
 */
export function limitTreeEntries(max: number): ValidateUpdateHook {
  const refuse = () => new AppError('TOO_LARGE', `A project holds at most ${max} files and folders: the change was not saved.`);
  return (payload) => {
    if (payload.document.kind !== 'tree') return;
    if (structsBound(payload.update) > max && countItems(payload.update, max) > max) throw refuse();
    const change = treeChange(payload.ydoc, payload.decoded);
    const growth = change.added - change.removed;
    if (growth <= 0) return;
    // Every key the map ever held (deleted ones too) bounds its entries from above, in O(1).
    if (treeOf(payload.ydoc)._map.size + growth <= max) return;
    if (change.entriesAfter > max) throw refuse();
  };
}

/**
 * Reads a decoded update as a change of `ydoc`'s tree. An entry is a key of the root map: a new
 * item states its parent and key only when it has no neighbour (a new key); one that replaces a
 * key's value names the value it replaces as its origin, found in the document or earlier in the
 * update. A key is added when a new item for it is not deleted by the same update and the key has
 * no visible value now; removed when the update deletes its visible value and writes no new one.
 * Exact for a client that has seen the tree as the server has it; a concurrent write to a key
 * whose value was deleted meanwhile may lose to that value (Yjs then deletes it) but is counted
 * as an addition: never fewer entries than the update makes, so the cap holds.
 */
export function treeChange(ydoc: Y.Doc, { structs, ds }: DecodedUpdate): TreeChange {
  const tree = treeOf(ydoc);
  const { store } = ydoc;
  const inUpdate = new Map<number, Y.Item[]>();
  for (const struct of structs) {
    if (!(struct instanceof Y.Item)) continue;
    let list = inUpdate.get(struct.id.client);
    if (!list) inUpdate.set(struct.id.client, (list = []));
    list.push(struct);
  }
  const keys = new Map<Y.Item, string | null>();
  const keyOf = (item: Y.Item, depth: number): string | null => {
    const known = keys.get(item);
    if (known !== undefined) return known;
    let key: string | null = null;
    if (item.parent !== null) {
      // A new key of a root type (parent given by name), or an item inside a nested type (parent by id).
      key = (item.parent as unknown) === TREE_MAP ? item.parentSub : null;
    } else if (item.origin && depth < 64) {
      const { client, clock } = item.origin;
      if (clock < Y.getState(store, client)) {
        const origin = Y.getItem(store, item.origin);
        // An origin collected as garbage makes Yjs drop the item too.
        key = origin instanceof Y.Item && origin.parent === tree ? origin.parentSub : null;
      } else {
        const origin = inUpdate.get(client)?.find((s) => s.id.clock <= clock && clock < s.id.clock + s.length);
        key = origin ? keyOf(origin, depth + 1) : null;
      }
    }
    keys.set(item, key);
    return key;
  };

  const written = new Map<string, unknown>();
  const added = new Set<string>();
  for (const items of inUpdate.values()) {
    for (const item of items) {
      // Already integrated (an honest client resends what the server has): changes nothing.
      if (item.id.clock + item.length <= Y.getState(store, item.id.client)) continue;
      const key = keyOf(item, 0);
      if (key === null || Y.isDeleted(ds, item.id)) continue;
      written.set(key, item.content.getContent()[0]);
      if (!tree.has(key)) added.add(key);
    }
  }
  let removed = 0;
  for (const [client, ranges] of ds.clients) {
    const known = store.clients.get(client);
    if (!known) continue;
    for (const { clock, len } of ranges) {
      const end = Math.min(clock + len, Y.getState(store, client));
      for (let i = clock < end ? Y.findIndexSS(known, clock) : known.length; i < known.length && known[i]!.id.clock < end; i++) {
        const item = known[i]!;
        if (!(item instanceof Y.Item) || item.deleted || item.parent !== tree || item.parentSub === null) continue;
        if (tree._map.get(item.parentSub) === item && !written.has(item.parentSub)) removed++;
      }
    }
  }
  return {
    added: added.size,
    removed,
    get entriesBefore() {
      return tree.size;
    },
    get entriesAfter() {
      return tree.size + added.size - removed;
    },
    written,
  };
}
