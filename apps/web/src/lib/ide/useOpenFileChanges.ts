'use client';
import { useCallback, useEffect, useRef } from 'react';
import type { TreeEntries } from './fileTree';

/**
 * Keeps open tabs in step with the shared tree: a file deleted by anyone closes its tab, and when
 * someone else deletes or renames a file you have open you are told (`notify`). Returns the call
 * to make before applying your own tree edit, which is not announced to you.
 */
export function useOpenFileChanges(
  treeLoaded: boolean,
  entries: TreeEntries,
  openFiles: readonly string[],
  closeFile: (fileId: string) => void,
  notify: (text: string) => void,
): () => void {
  const openPaths = useRef(new Map<string, string>());
  const ownEdit = useRef(false);
  const notifyRef = useRef(notify);
  notifyRef.current = notify;
  useEffect(() => {
    if (!treeLoaded) return;
    const known = openPaths.current;
    const news: string[] = [];
    for (const id of openFiles) {
      const entry = entries.get(id);
      const before = known.get(id);
      if (!entry || entry.kind === 'folder') {
        if (before && !ownEdit.current) news.push(`“${before}” was deleted by someone else, so its tab was closed.`);
        known.delete(id);
        closeFile(id);
      } else {
        if (before && before !== entry.path && !ownEdit.current) news.push(`“${before}” was renamed to “${entry.path}”.`);
        known.set(id, entry.path);
      }
    }
    for (const id of known.keys()) if (!openFiles.includes(id)) known.delete(id);
    ownEdit.current = false;
    if (news.length > 0) notifyRef.current(news.join(' '));
  }, [treeLoaded, entries, openFiles, closeFile]);
  return useCallback(() => { ownEdit.current = true; }, []);
}
