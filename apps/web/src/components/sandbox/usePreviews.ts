'use client';
import { useEffect, useState } from 'react';
import type { PreviewTarget } from '@tandem/api';
import type { ProjectStream } from '@/lib/ProjectStream';
import { trpc } from '@/lib/trpc';

export type { PreviewTarget };

/**
 * Programs listening on a TCP port in the project's sandboxes: what the Preview tab offers. The
 * list is fetched when the stream goes live (and on `resync`); after that the server pushes every
 * change (`sandbox.previews`) to all participants at once, so everyone sees the same app.
 */
export function usePreviews(projectId: string, stream: ProjectStream | null): PreviewTarget[] {
  const [previews, setPreviews] = useState<PreviewTarget[]>([]);
  useEffect(() => {
    if (!stream) return;
    let stopped = false;
    const show = (next: PreviewTarget[]) => setPreviews((old) => (sameTargets(old, next) ? old : next));
    const reload = async () => {
      try {
        const r = await trpc.network.previews.query({ projectId });
        if (!stopped) show(r.previews);
      } catch {
        // sandbox networking unavailable: no previews
      }
    };
    const offs = [
      stream.on('sandbox.previews', (e) => show(e.data.previews)),
      stream.on('resync', () => void reload()),
      stream.onState((s) => s === 'live' && void reload()),
    ];
    if (stream.state === 'live') void reload();
    return () => {
      stopped = true;
      offs.forEach((off) => off());
    };
  }, [projectId, stream]);
  return previews;
}

function sameTargets(a: PreviewTarget[], b: PreviewTarget[]): boolean {
  return a.length === b.length && a.every((p, i) => p.port === b[i]!.port && p.url === b[i]!.url);
}
