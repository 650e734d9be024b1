'use client';
import { useCallback, useEffect, useRef, useState } from 'react';
import type { TreeEntries } from './fileTree';
import type { Participant } from './presence';

/** The main editor group's tabs (file ids) and the active one. */
export function useEditorTabs() {
  const [tabs, setTabs] = useState<{ open: string[]; active: string | null }>({ open: [], active: null });

  const showFile = useCallback((fileId: string) => {
    setTabs((t) => ({ open: t.open.includes(fileId) ? t.open : [...t.open, fileId], active: fileId }));
  }, []);

  const closeFile = useCallback((fileId: string) => {
    setTabs((t) => {
      const index = t.open.indexOf(fileId);
      if (index < 0) return t;
      const open = t.open.filter((id) => id !== fileId);
      return { open, active: t.active === fileId ? open[Math.min(index, open.length - 1)] ?? null : t.active };
    });
  }, []);

  return { openFiles: tabs.open, activeFile: tabs.active, showFile, closeFile };
}

/** First visit: open the README (or the first file) so the editor is not empty. */
export function useAutoOpen(treeLoaded: boolean, entries: TreeEntries, showFile: (fileId: string) => void) {
  const done = useRef(false);
  useEffect(() => {
    if (!treeLoaded || done.current) return;
    done.current = true;
    const files = [...entries].filter(([, e]) => e.kind === 'file').sort(([, a], [, b]) => a.path.localeCompare(b.path));
    const first = files.find(([, e]) => /^readme(\.|$)/i.test(e.path)) ?? files[0];
    if (first) showFile(first[0]);
  }, [treeLoaded, entries, showFile]);
}

/**
 * Follow mode: go where the followed person goes; stop if they leave. `loaded`: the session has
 * its first snapshot (before it, nobody is known to have left).
 */
export function useFollowMode(
  participants: Participant[],
  loaded: boolean,
  activeFile: string | null,
  entries: TreeEntries,
  showFile: (fileId: string) => void,
  onNotice: (text: string | null) => void,
) {
  const [following, setFollowing] = useState<number | null>(null);
  const followed: Participant | undefined = participants.find((p) => p.session === following);
  useEffect(() => {
    if (following === null || !loaded) return;
    if (!followed) {
      setFollowing(null);
      onNotice('The person you were following left the project.');
      return;
    }
    if (followed.activeFile && followed.activeFile !== activeFile && (entries.get(followed.activeFile)?.kind ?? 'folder') !== 'folder') showFile(followed.activeFile);
  }, [following, followed, activeFile, entries, loaded, showFile, onNotice]);

  const follow = useCallback((sessionId: number) => {
    setFollowing(sessionId);
    onNotice(null);
  }, [onNotice]);
  const stopFollowing = useCallback(() => setFollowing(null), []);
  return { following, followed, follow, stopFollowing };
}
