'use client';
import { useEffect, useState } from 'react';
import { ProjectStream } from './ProjectStream';

/**
 * One ProjectStream per project per tab, shared by every feature that needs live events (runs,
 * terminals, suggestions…): each extra stream would be another long-lived HTTP connection, and
 * browsers allow only 6 per origin across all tabs. Reference-counted: the stream closes when its
 * last user unmounts.
 */
const shared = new Map<string, { stream: ProjectStream; users: number }>();

export function acquireProjectStream(projectId: string): { stream: ProjectStream; release: () => void } {
  let entry = shared.get(projectId);
  if (!entry) shared.set(projectId, (entry = { stream: new ProjectStream(projectId), users: 0 }));
  entry.users++;
  const held = entry;
  let released = false;
  return {
    stream: held.stream,
    release: () => {
      if (released) return;
      released = true;
      if (--held.users > 0) return;
      held.stream.close();
      if (shared.get(projectId) === held) shared.delete(projectId);
    },
  };
}

/** The tab's shared live stream for `projectId` (null until mounted). */
export function useProjectStream(projectId: string): ProjectStream | null {
  const [stream, setStream] = useState<ProjectStream | null>(null);
  useEffect(() => {
    const { stream: s, release } = acquireProjectStream(projectId);
    setStream(s);
    return () => {
      release();
      setStream(null);
    };
  }, [projectId]);
  return stream;
}
