'use client';
import { useEffect, useState } from 'react';
import type { SandboxQueued } from '@tandem/api';
import type { ProjectStream } from '@/lib/ProjectStream';

/**
 * Runs and terminals of this project waiting for a free sandbox (the server is full), oldest
 * first, with their current position. A wait lives only as long as its start call: after a
 * reconnect nothing is waiting from this tab's point of view until the next event.
 */
export function useSandboxQueue(stream: ProjectStream | null): SandboxQueued[] {
  const [waiting, setWaiting] = useState<SandboxQueued[]>([]);
  useEffect(() => {
    if (!stream) return;
    const offs = [
      stream.on('sandbox.queued', (e) => {
        const q = e.data;
        setWaiting((list) => {
          const rest = list.filter((w) => w.ticket !== q.ticket);
          return q.position === null ? rest : [...rest, q].sort((a, b) => (a.position ?? 0) - (b.position ?? 0));
        });
      }),
      stream.on('resync', () => setWaiting([])),
    ];
    return () => offs.forEach((off) => off());
  }, [stream]);
  return waiting;
}
