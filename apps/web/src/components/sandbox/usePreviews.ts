'use client';
import { useEffect, useState } from 'react';
import { trpc } from '@/lib/trpc';

export interface PreviewTarget {
  port: number;
  url: string;
}

const POLL_MS = 2000;

/**
 * Programs listening on a TCP port in the project's sandboxes, polled every 2 s while `active`
 * (a terminal is open or a run is going): what the Preview tab offers. Every participant polls
 * the same server-side list, so everyone sees the same app.
 */
export function usePreviews(projectId: string, active: boolean): PreviewTarget[] {
  const [previews, setPreviews] = useState<PreviewTarget[]>([]);
  useEffect(() => {
    if (!active) {
      setPreviews([]);
      return;
    }
    let stopped = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const tick = async () => {
      try {
        const r = await trpc.network.previews.query({ projectId });
        if (!stopped) setPreviews((old) => (sameTargets(old, r.previews) ? old : r.previews));
      } catch {
        // sandbox networking unavailable: no previews
      }
      if (!stopped) timer = setTimeout(() => void tick(), POLL_MS);
    };
    void tick();
    return () => {
      stopped = true;
      clearTimeout(timer);
    };
  }, [projectId, active]);
  return previews;
}

function sameTargets(a: PreviewTarget[], b: PreviewTarget[]): boolean {
  return a.length === b.length && a.every((p, i) => p.port === b[i]!.port && p.url === b[i]!.url);
}
