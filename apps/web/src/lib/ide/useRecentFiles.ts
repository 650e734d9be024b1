'use client';
import { useEffect, useState } from 'react';

const MAX_RECENT = 50;

/** File ids this browser opened in the project, most recent first (for quick open). */
export function useRecentFiles(projectId: string, activeFile: string | null): string[] {
  const key = `tandem:recent:${projectId}`;
  const [recent, setRecent] = useState<string[]>([]);
  useEffect(() => {
    try {
      const stored = JSON.parse(localStorage.getItem(key) ?? '[]') as unknown;
      setRecent(Array.isArray(stored) ? stored.filter((id): id is string => typeof id === 'string').slice(0, MAX_RECENT) : []);
    } catch {
      setRecent([]);
    }
  }, [key]);
  useEffect(() => {
    if (!activeFile) return;
    setRecent((r) => {
      if (r[0] === activeFile) return r;
      const next = [activeFile, ...r.filter((id) => id !== activeFile)].slice(0, MAX_RECENT);
      try {
        localStorage.setItem(key, JSON.stringify(next));
      } catch { /* best effort */ }
      return next;
    });
  }, [key, activeFile]);
  return recent;
}
