'use client';
import { useCallback, useEffect, useRef, useState } from 'react';
import {
  AGENT_EVENTS, type AgentChangesetView, type AgentItem, type AgentRunView,
} from '@tandem/protocol';
import type { ProjectStream } from '@/lib/ProjectStream';
import { errorMessage, trpc } from '@/lib/trpc';
import { applyEvent, type TranscriptEvent } from './transcriptEvents';

/** Output kept per command for display (the server keeps the tail too). */
const OUTPUT_KEEP = 20_000;

export interface AgentRunsState {
  runs: AgentRunView[];
  selectedId: string | null;
  items: AgentItem[];
  changeset: AgentChangesetView | null;
  /** Live command output by tool call id (what streamed since this tab opened the run). */
  output: Record<string, string>;
  error: string | null;
}

/**
 * The project's agent runs and the selected run's transcript and changeset, kept live from the
 * `agent.*` events of the tab's one project stream. A reload refetches (the record is on the
 * server), so a run survives reloads; a `resync` refetches too.
 */
export function useAgentRuns(projectId: string, stream: ProjectStream | null) {
  const [state, setState] = useState<AgentRunsState>({ runs: [], selectedId: null, items: [], changeset: null, output: {}, error: null });
  const selected = useRef<string | null>(null);
  /** Runs this tab has heard of (a new one that is running gets selected). */
  const known = useRef(new Set<string>());

  /**
   * Events of the selected run that arrived while its transcript was loading: the snapshot may
   * be older or newer than any of them, so they are applied on top of it once it is in.
   */
  const arrived = useRef<TranscriptEvent[] | null>(null);
  /** Only the latest load applies (an earlier answer may be older than events applied since). */
  const loads = useRef(0);

  const loadRun = useCallback(async (runId: string) => {
    const load = ++loads.current;
    arrived.current = [];
    try {
      const r = await trpc.agent.get.query({ projectId, runId });
      if (load !== loads.current) return;
      if (selected.current !== runId) {
        arrived.current = null;
        return;
      }
      const meanwhile = arrived.current ?? [];
      arrived.current = null;
      setState((s) => ({
        ...s, items: meanwhile.reduce(applyEvent, r.items), changeset: r.changeset, runs: s.runs.map((x) => (x.id === runId ? r.run : x)),
      }));
    } catch (e) {
      if (load === loads.current) arrived.current = null;
      setState((s) => ({ ...s, error: errorMessage(e) }));
    }
  }, [projectId]);

  /** Applies a transcript event of the selected run now, or after the transcript being loaded. */
  const transcriptEvent = useCallback((event: TranscriptEvent) => {
    if (arrived.current) arrived.current.push(event);
    else setState((s) => ({ ...s, items: applyEvent(s.items, event) }));
  }, []);

  const loadList = useCallback(async () => {
    try {
      const runs = await trpc.agent.list.query({ projectId });
      for (const r of runs) known.current.add(r.id);
      setState((s) => ({ ...s, runs }));
      if (selected.current === null && runs[0]) {
        selected.current = runs[0].id;
        setState((s) => ({ ...s, selectedId: runs[0]!.id }));
        void loadRun(runs[0].id);
      }
    } catch (e) {
      setState((s) => ({ ...s, error: errorMessage(e) }));
    }
  }, [projectId, loadRun]);

  const select = useCallback((runId: string) => {
    selected.current = runId;
    setState((s) => ({ ...s, selectedId: runId, items: [], changeset: null, output: {} }));
    void loadRun(runId);
  }, [loadRun]);

  const refreshChangeset = useCallback(async (runId: string) => {
    try {
      const changeset = await trpc.agent.changeset.query({ projectId, runId });
      if (selected.current === runId) setState((s) => ({ ...s, changeset }));
    } catch { /* the next event or reload brings it */ }
  }, [projectId]);

  useEffect(() => {
    void loadList();
    if (!stream) return;
    const offs = [
      stream.on(AGENT_EVENTS.run, (e) => {
        const run = e.data;
        const isNew = !known.current.has(run.id);
        known.current.add(run.id);
        setState((s) => ({ ...s, runs: s.runs.some((r) => r.id === run.id) ? s.runs.map((r) => (r.id === run.id ? run : r)) : [run, ...s.runs] }));
        // A run anyone starts brings everyone's panel to it.
        if (isNew && run.status === 'running' && selected.current !== run.id) select(run.id);
      }),
      stream.on(AGENT_EVENTS.item, (e) => {
        if (e.data.runId === selected.current) transcriptEvent({ kind: 'item', item: e.data.item });
      }),
      stream.on(AGENT_EVENTS.delta, (e) => {
        if (e.data.runId === selected.current) transcriptEvent({ kind: 'delta', delta: e.data });
      }),
      stream.on(AGENT_EVENTS.output, (e) => {
        const { runId, toolCallId, text } = e.data;
        if (runId !== selected.current) return;
        setState((s) => ({ ...s, output: { ...s.output, [toolCallId]: ((s.output[toolCallId] ?? '') + text).slice(-OUTPUT_KEEP) } }));
      }),
      stream.on(AGENT_EVENTS.changeset, (e) => {
        const { runId } = e.data as { runId: string };
        if (runId === selected.current) void refreshChangeset(runId);
      }),
      stream.on('resync', () => {
        void loadList();
        if (selected.current) void loadRun(selected.current);
      }),
    ];
    return () => offs.forEach((off) => off());
  }, [stream, loadList, loadRun, refreshChangeset, select, transcriptEvent]);

  const act = useCallback(async (work: () => Promise<unknown>) => {
    try {
      setState((s) => ({ ...s, error: null }));
      await work();
    } catch (e) {
      setState((s) => ({ ...s, error: errorMessage(e) }));
    }
  }, []);

  return { ...state, select, act, reload: loadList };
}

export type AgentRuns = ReturnType<typeof useAgentRuns>;
