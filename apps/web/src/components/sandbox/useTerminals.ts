'use client';
import { useCallback, useEffect, useRef, useState } from 'react';
import type { TerminalView } from '@tandem/api';
import type { ProjectStream, StreamEvent } from '@/lib/ProjectStream';
import { Arrivals } from '@/lib/Arrivals';
import { trpc } from '@/lib/trpc';

/**
 * The project's shared terminals, as every participant sees them. A terminal that exits stays in
 * the list (marked exited) until this participant closes its tab.
 */
export function useTerminals(projectId: string, stream: ProjectStream | null) {
  const [terminals, setTerminals] = useState<TerminalView[]>([]);

  // Terminals that arrive (as events or `open` answers) while a list is fetched are newer than it.
  const arrivals = useRef(new Arrivals<TerminalView>());
  const reload = useCallback(async () => {
    try {
      const [open, arrived] = await arrivals.current.during(() => trpc.sandbox.terminals.list.query({ projectId }));
      setTerminals((cur) => {
        const openIds = new Set(open.map((t) => t.id));
        const fresh = cur.filter((t) => arrived.has(t.id));
        // Ones that ended while we were away are shown as exited rather than vanishing.
        const ended = cur.filter((t) => !openIds.has(t.id) && !arrived.has(t.id)).map((t) => ({ ...t, exited: true }));
        return sortByTitle([...open.filter((t) => !arrived.has(t.id)), ...fresh, ...ended]);
      });
    } catch {
      // Shown by the panel's status (e.g. not a member any more).
    }
  }, [projectId]);

  /** Adds or replaces a terminal (from an event, or the answer to `open`, whichever comes first). */
  const upsert = useCallback((view: TerminalView) => {
    arrivals.current.saw(view.id, view);
    setTerminals((cur) => {
      const known = cur.find((t) => t.id === view.id);
      if (known?.exited && !view.exited) return cur; // a late `open` answer never revives an exited one
      return sortByTitle([...cur.filter((t) => t.id !== view.id), view]);
    });
  }, []);

  useEffect(() => {
    if (!stream) return;
    const onTerminal = (e: StreamEvent<'sandbox.terminal'>) => upsert(e.data);
    const offs = [
      stream.on('sandbox.terminal', onTerminal),
      stream.on('resync', () => void reload()),
      stream.onState((s) => s === 'live' && void reload()),
    ];
    if (stream.state === 'live') void reload();
    return () => offs.forEach((off) => off());
  }, [stream, reload, upsert]);

  /** Forgets an exited terminal (closing its tab). */
  const dismiss = useCallback((terminalId: string) => {
    setTerminals((cur) => cur.filter((t) => t.id !== terminalId || !t.exited));
  }, []);

  return { terminals, reload, dismiss, upsert };
}

function sortByTitle(list: TerminalView[]): TerminalView[] {
  const n = (t: TerminalView) => Number(/\d+$/.exec(t.title)?.[0] ?? 0);
  return list.sort((a, b) => n(a) - n(b) || a.openedAt.localeCompare(b.openedAt));
}
