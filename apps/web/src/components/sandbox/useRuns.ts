'use client';
import { useCallback, useEffect, useRef, useState } from 'react';
import type { RunOutputSnapshot, RunView } from '@tandem/api';
import type { ProjectStream, StreamEvent } from '@/lib/ProjectStream';
import { Arrivals } from '@/lib/Arrivals';
import { errorMessage, trpc } from '@/lib/trpc';

export interface OutputChunk {
  stream: 'stdout' | 'stderr';
  text: string;
}

export interface RunOutputState {
  runId: string | null;
  chunks: OutputChunk[];
  /** Characters received (RunOutput.end of the last chunk applied). */
  end: number;
  /** Characters the server no longer keeps from the start of the run. */
  omitted: number;
}

const EMPTY: RunOutputState = { runId: null, chunks: [], end: 0, omitted: 0 };

/**
 * The project's runs as every participant sees them: the list (newest first) and the output of
 * the run shown (the live one, else the last). Output arrives on the shared stream; after a
 * reload, a resync or a gap the kept output is fetched again and the stream continues from its
 * `end`.
 */
export function useRuns(projectId: string, stream: ProjectStream | null) {
  const [runs, setRuns] = useState<RunView[]>([]);
  const [output, setOutputState] = useState<RunOutputState>(EMPTY);
  const [error, setError] = useState<string | null>(null);
  // Events are handled back to back before React re-renders: they read and write this at once.
  const outputRef = useRef(output);
  const setOutput = useCallback((next: RunOutputState) => {
    outputRef.current = next;
    setOutputState(next);
  }, []);

  const loadOutput = useCallback(async (runId: string) => {
    const shownBefore = outputRef.current.runId;
    // A run that started while this was fetched (its event switched the output) stays shown.
    const overtaken = () => outputRef.current.runId !== shownBefore && outputRef.current.runId !== runId;
    try {
      const snap: RunOutputSnapshot = await trpc.sandbox.runs.output.query({ projectId, runId });
      const cur = outputRef.current;
      if (overtaken() || (cur.runId === runId && cur.end >= snap.end)) return;
      setOutput({ runId, chunks: snap.chunks, end: snap.end, omitted: snap.omitted });
    } catch {
      // Output of older runs is not kept: show the run without it.
      if (!overtaken() && outputRef.current.runId !== runId) setOutput({ ...EMPTY, runId });
    }
  }, [projectId, setOutput]);

  const arrivals = useRef(new Arrivals<RunView>());
  const reload = useCallback(async () => {
    try {
      const [list, arrived] = await arrivals.current.during(() => trpc.sandbox.runs.list.query({ projectId }));
      const merged = sortRuns([...arrived.values(), ...list.filter((r) => !arrived.has(r.id))]);
      setRuns(merged);
      if (merged[0]) await loadOutput(merged[0].id);
    } catch (e) {
      setError(errorMessage(e));
    }
  }, [projectId, loadOutput]);

  useEffect(() => {
    if (!stream) return;
    const onRun = (e: StreamEvent<'sandbox.run'>) => {
      const run = e.data;
      arrivals.current.saw(run.id, run);
      setRuns((list) => sortRuns([run, ...list.filter((r) => r.id !== run.id)]));
      if (run.status === 'running' && outputRef.current.runId !== run.id) setOutput({ ...EMPTY, runId: run.id });
    };
    const onOutput = (e: StreamEvent<'sandbox.output'>) => {
      const o = e.data;
      const cur = outputRef.current;
      if (o.runId !== cur.runId || o.end <= cur.end) return; // another run, or already have it
      if (o.end - o.text.length !== cur.end) return void loadOutput(o.runId); // missed something
      setOutput({ ...cur, chunks: [...cur.chunks, { stream: o.stream, text: o.text }], end: o.end });
    };
    const offs = [
      stream.on('sandbox.run', onRun),
      stream.on('sandbox.output', onOutput),
      stream.on('resync', () => void reload()),
      // (Re)connected: what happened while the stream was down is fetched, the rest streams in.
      stream.onState((s) => s === 'live' && void reload()),
    ];
    if (stream.state === 'live') void reload();
    return () => offs.forEach((off) => off());
  }, [stream, reload, loadOutput, setOutput]);

  return { runs, output, error, reload };
}

/** Newest first. */
function sortRuns(list: RunView[]): RunView[] {
  return list.sort((a, b) => (a.startedAt < b.startedAt ? 1 : -1));
}
