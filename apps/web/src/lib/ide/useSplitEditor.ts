'use client';
import { useCallback, useEffect, useState } from 'react';
import type { TreeEntries } from './fileTree';

export interface SplitTabs {
  open: string[];
  active: string | null;
}

/**
 * The right-hand editor group: its own tabs (file ids), remembered per project in this browser.
 * null: the editor is not split. Files deleted from the project leave it.
 */
export function useSplitEditor(projectId: string, entries: TreeEntries, treeLoaded: boolean) {
  const key = `tandem:split:${projectId}`;
  const [split, setSplit] = useState<SplitTabs | null>(null);
  useEffect(() => {
    try {
      const stored = JSON.parse(localStorage.getItem(key) ?? 'null') as Partial<SplitTabs> | null;
      const open = Array.isArray(stored?.open) ? stored.open.filter((id): id is string => typeof id === 'string') : [];
      setSplit(open.length ? { open, active: typeof stored?.active === 'string' && open.includes(stored.active) ? stored.active : open[0]! } : null);
    } catch {
      setSplit(null);
    }
  }, [key]);
  useEffect(() => {
    try {
      if (split) localStorage.setItem(key, JSON.stringify(split));
      else localStorage.removeItem(key);
    } catch { /* best effort */ }
  }, [key, split]);
  useEffect(() => {
    if (!treeLoaded) return;
    setSplit((s) => {
      if (!s || s.open.every((id) => entries.get(id)?.kind === 'file')) return s;
      const open = s.open.filter((id) => entries.get(id)?.kind === 'file');
      return open.length ? { open, active: s.active && open.includes(s.active) ? s.active : open[0]! } : null;
    });
  }, [entries, treeLoaded]);

  /** Shows a file in the right group (splitting the editor if needed). */
  const show = useCallback((fileId: string) => {
    setSplit((s) => ({ open: s?.open.includes(fileId) ? s.open : [...(s?.open ?? []), fileId], active: fileId }));
  }, []);
  const close = useCallback((fileId: string) => {
    setSplit((s) => {
      if (!s) return s;
      const index = s.open.indexOf(fileId);
      const open = s.open.filter((id) => id !== fileId);
      if (!open.length) return null;
      return { open, active: s.active === fileId ? open[Math.min(index, open.length - 1)]! : s.active };
    });
  }, []);
  const unsplit = useCallback(() => setSplit(null), []);
  return { split, show, close, unsplit };
}
