'use client';
import { useCallback, useEffect, useRef, useState } from 'react';
import type { CommentThreadView } from '@tandem/api';
import { Arrivals } from '@/lib/Arrivals';
import type { StreamEvent } from '@/lib/ProjectStream';
import { useProjectStream } from '@/lib/useProjectStream';
import { errorMessage, trpc } from '@/lib/trpc';

/** Where a new thread goes: computed by the editor from the selection (Yjs relative positions). */
export interface CommentDraft {
  fileId: string;
  anchorStart: string;
  anchorEnd: string;
  excerpt: string;
  line: number;
  /** A thread on an AI edit's hunk: the suggestion (the anchor is the hunk's own). */
  suggestionId?: string;
}

/** The project's comment threads, live: fetched on (re)connect, then kept current by events. */
export function useComments(projectId: string) {
  const stream = useProjectStream(projectId);
  const [threads, setThreads] = useState<CommentThreadView[]>([]);
  const [error, setError] = useState<string | null>(null);
  const arrivals = useRef(new Arrivals<CommentThreadView>());

  const reload = useCallback(async () => {
    try {
      const [list, arrived] = await arrivals.current.during(() => trpc.comments.list.query({ projectId }));
      setThreads([...list.filter((t) => !arrived.has(t.id)), ...arrived.values()].sort(byCreated));
      setError(null);
    } catch (e) {
      setError(errorMessage(e));
    }
  }, [projectId]);

  useEffect(() => {
    if (!stream) return;
    const onThread = (e: StreamEvent<'comments.thread'>) => {
      const thread = e.data;
      arrivals.current.saw(thread.id, thread);
      setThreads((list) => [...list.filter((t) => t.id !== thread.id), thread].sort(byCreated));
    };
    const offs = [
      stream.on('comments.thread', onThread),
      stream.on('resync', () => void reload()),
      stream.onState((s) => s === 'live' && void reload()),
    ];
    if (stream.state === 'live') void reload();
    return () => offs.forEach((off) => off());
  }, [stream, reload]);

  const act = useCallback(async (fn: () => Promise<CommentThreadView>): Promise<boolean> => {
    try {
      const thread = await fn();
      setThreads((list) => [...list.filter((t) => t.id !== thread.id), thread].sort(byCreated));
      setError(null);
      return true;
    } catch (e) {
      setError(errorMessage(e));
      return false;
    }
  }, []);

  return {
    threads,
    error,
    create: (draft: Omit<CommentDraft, 'line'>, body: string) => act(() => trpc.comments.create.mutate({ projectId, fileId: draft.fileId, anchorStart: draft.anchorStart, anchorEnd: draft.anchorEnd, excerpt: draft.excerpt, body, suggestionId: draft.suggestionId ?? null })),
    reply: (threadId: string, body: string) => act(() => trpc.comments.reply.mutate({ projectId, threadId, body })),
    resolve: (threadId: string, resolved: boolean) => act(() => trpc.comments.resolve.mutate({ projectId, threadId, resolved })),
  };
}

export type Comments = ReturnType<typeof useComments>;

function byCreated(a: CommentThreadView, b: CommentThreadView): number {
  return a.createdAt < b.createdAt ? -1 : a.createdAt > b.createdAt ? 1 : 0;
}
