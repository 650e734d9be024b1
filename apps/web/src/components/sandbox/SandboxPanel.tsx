'use client';
import { useCallback, useEffect, useRef, useState } from 'react';
import type { RunView } from '@tandem/api';
import { useProjectStream } from '@/lib/useProjectStream';
import { errorMessage, trpc } from '@/lib/trpc';
import { useQuery } from '@/lib/useQuery';
import { useIdeCommands } from '@/lib/ide/CommandRegistry';
import { dragResize } from '@/lib/ide/dragResize';
import { PreviewPane } from './PreviewPane';
import { RunOutputView } from './RunOutputView';
import { usePreviews } from './usePreviews';
import { useSandboxQueue } from './useSandboxQueue';
import { TerminalPane } from './TerminalPane';
import { useRuns } from './useRuns';
import { useTerminals } from './useTerminals';
import './sandbox.css';

export interface SandboxPanelProps {
  projectId: string;
  /** Owners and editors run and type; viewers (and a session that ended) only watch. */
  canControl: boolean;
}

const OUTPUT_TAB = 'output';
const PREVIEW_TAB = 'preview';
const DEFAULT_HEIGHT = 280;
const MIN_HEIGHT = 120;

/**
 * The IDE's bottom panel: the Run button, the shared run output, and the project's shared
 * terminals as tabs (Output · Terminal 1 · … · +). Everything here is the same for every
 * participant; only editors can start, stop and type.
 */
export function SandboxPanel({ projectId, canControl }: SandboxPanelProps) {
  const stream = useProjectStream(projectId);
  const status = useQuery(() => trpc.sandbox.status.query({ projectId }), [projectId]);
  const { runs, output } = useRuns(projectId, stream);
  const { terminals, dismiss, upsert } = useTerminals(projectId, stream);
  const [tab, setTab] = useState<string>(OUTPUT_TAB);
  const [collapsed, setCollapsed] = useState(false);
  const [height, setHeight] = useState(DEFAULT_HEIGHT);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const panel = useRef<HTMLElement>(null);

  const latest: RunView | undefined = runs[0];
  const running = latest?.status === 'running';
  const available = status.data?.available ?? false;
  const shownRun = runs.find((r) => r.id === output.runId) ?? latest;

  // A run anyone starts brings everyone's Output tab forward; the status may have changed too.
  const lastRunId = useRef<string | null>(null);
  useEffect(() => {
    if (!latest || latest.id === lastRunId.current) return;
    const first = lastRunId.current === null;
    lastRunId.current = latest.id;
    if (!first && latest.status === 'running') {
      setTab(OUTPUT_TAB);
      setCollapsed(false);
    }
  }, [latest]);

  // The run command may have been changed in the settings meanwhile.
  const reloadStatus = status.reload;
  useEffect(() => void reloadStatus(), [reloadStatus, latest?.id, latest?.status]);

  const previews = usePreviews(projectId, stream);
  const queue = useSandboxQueue(stream);
  // A tab whose terminal was dismissed (or whose app stopped listening) falls back to Output.
  useEffect(() => {
    if (tab === PREVIEW_TAB ? previews.length === 0 : tab !== OUTPUT_TAB && !terminals.some((t) => t.id === tab)) setTab(OUTPUT_TAB);
  }, [tab, terminals, previews.length]);

  const act = useCallback(async (fn: () => Promise<unknown>) => {
    setBusy(true);
    setError(null);
    try {
      await fn();
    } catch (e) {
      setError(errorMessage(e));
    } finally {
      setBusy(false);
    }
  }, []);

  const run = () => act(async () => {
    setTab(OUTPUT_TAB);
    setCollapsed(false);
    await trpc.sandbox.runs.start.mutate({ projectId });
  });
  const stop = () => act(async () => {
    if (latest) await trpc.sandbox.runs.stop.mutate({ projectId, runId: latest.id });
  });
  const openTerminal = () => act(async () => {
    setCollapsed(false);
    const { cols, rows } = estimateTerminalSize(panel.current);
    const view = await trpc.sandbox.terminals.open.mutate({ projectId, cols, rows });
    upsert(view);
    setTab(view.id);
  });
  const closeTerminal = (id: string, exited: boolean) => {
    if (exited) return dismiss(id);
    void act(() => trpc.sandbox.terminals.kill.mutate({ projectId, terminalId: id }));
  };

  const cannotRun = !canControl ? 'Only editors can run the project' : !available ? 'Running code is disabled on this server' : null;
  useIdeCommands([
    { id: 'sandbox.run', label: 'Run: Run Project', enabled: !cannotRun && !running && !busy, disabledReason: cannotRun ?? 'Already running', run: () => void run() },
    { id: 'sandbox.stop', label: 'Run: Stop', enabled: canControl && running, disabledReason: canControl ? 'Nothing is running' : 'Only editors can stop runs', run: () => void stop() },
    { id: 'sandbox.newTerminal', label: 'Terminal: New Shared Terminal', enabled: !cannotRun && !busy, disabledReason: cannotRun ?? 'Busy', run: () => void openTerminal() },
    { id: 'view.togglePanel', label: collapsed ? 'Show Bottom Panel' : 'Hide Bottom Panel', run: () => setCollapsed((c) => !c) },
  ]);

  const startResize = (e: React.PointerEvent) =>
    dragResize(e, 'y', height, (h) => setHeight(Math.max(MIN_HEIGHT, Math.min(window.innerHeight - 200, h))), -1);

  const runTitle = !available
    ? status.data ? 'Running code is disabled on this server' : 'Checking the sandbox…'
    : !canControl ? 'Only editors can run the project' : status.data?.runCommand ? `Run: ${status.data.runCommand.command}` : 'This project has no run command yet';

  return (
    <section className={`sbx-panel${collapsed ? ' collapsed' : ''}`} ref={panel} style={collapsed ? undefined : { height }} data-testid="sandbox-panel">
      {!collapsed && <div className="sbx-resize" onPointerDown={startResize} role="separator" aria-orientation="horizontal" aria-label="Resize panel" />}
      <header className="sbx-head">
        <div className="sbx-tabs" role="tablist">
          <button role="tab" aria-selected={tab === OUTPUT_TAB} className={`sbx-tab${tab === OUTPUT_TAB ? ' active' : ''}`} onClick={() => { setTab(OUTPUT_TAB); setCollapsed(false); }} data-testid="output-tab">
            Output{running && <span className="sbx-live-dot" title="Running" />}
          </button>
          {terminals.map((t) => (
            <div key={t.id} role="tab" aria-selected={tab === t.id} className={`sbx-tab${tab === t.id ? ' active' : ''}${t.exited ? ' exited' : ''}`} onClick={() => { setTab(t.id); setCollapsed(false); }} data-testid="terminal-tab" data-terminal-id={t.id}>
              <TerminalGlyph />
              <span>{t.title}</span>
              {(canControl || t.exited) && (
                <button className="sbx-tab-close" aria-label={t.exited ? `Close ${t.title}` : `Kill ${t.title}`} title={t.exited ? 'Close tab' : 'Kill terminal (for everyone)'} onClick={(e) => { e.stopPropagation(); closeTerminal(t.id, t.exited); }}>×</button>
              )}
            </div>
          ))}
          {previews.length > 0 && (
            <button role="tab" aria-selected={tab === PREVIEW_TAB} className={`sbx-tab${tab === PREVIEW_TAB ? ' active' : ''}`} onClick={() => { setTab(PREVIEW_TAB); setCollapsed(false); }} data-testid="preview-tab" title="The app listening in the sandbox, for everyone">
              Preview <span className="muted small">:{previews.map((p) => p.port).join(' :')}</span>
            </button>
          )}
          {canControl && available && (
            <button className="sbx-tab sbx-add" onClick={openTerminal} disabled={busy} aria-label="New terminal" title="New shared terminal" data-testid="new-terminal">+</button>
          )}
        </div>
        <span className="spacer" />
        {!canControl && <span className="sbx-watching" title="Viewers see every run and terminal but cannot start runs or type">View only</span>}
        {queue.map((q) => (
          <span key={q.ticket} className="sbx-pill queued" data-testid="sandbox-queued" title={`The server is busy: every sandbox is in use. ${q.user.name}'s ${q.kind} starts when one frees up.`}>
            {q.kind === 'run' ? 'Run' : 'Terminal'} queued (position {q.position})
          </span>
        ))}
        {shownRun && <RunSummary run={shownRun} />}
        {running && canControl ? (
          <button className="sbx-run stop" onClick={stop} disabled={busy} data-testid="stop-button" title="Stop: kills the whole process tree">
            <StopGlyph /> Stop
          </button>
        ) : (
          <button className="sbx-run primary" onClick={run} disabled={busy || running || !canControl || !available || !status.data?.runCommand} data-testid="run-button" title={runTitle}>
            <PlayGlyph /> Run
          </button>
        )}
        <button className="icon sbx-collapse" onClick={() => setCollapsed((c) => !c)} aria-label={collapsed ? 'Show panel' : 'Hide panel'} title={collapsed ? 'Show panel' : 'Hide panel'}>
          <svg width="14" height="14" viewBox="0 0 16 16" fill="none" stroke="currentColor" strokeWidth="1.5" aria-hidden="true"><path d={collapsed ? 'M4 10l4-4 4 4' : 'M4 6l4 4 4-4'} /></svg>
        </button>
      </header>
      {error && (
        <div className="sbx-error" role="alert">
          <span>{error}</span>
          <button className="link small" onClick={() => setError(null)}>Dismiss</button>
        </div>
      )}
      <div className="sbx-body" hidden={collapsed}>
        <div className={`sbx-pane${tab === OUTPUT_TAB ? '' : ' inactive'}`}>
          <RunOutputView
            projectId={projectId}
            stream={stream}
            run={shownRun ?? null}
            output={output}
            status={status.data ?? null}
            canControl={canControl}
            onError={setError}
          />
        </div>
        {previews.length > 0 && (
          <div className={`sbx-pane${tab === PREVIEW_TAB ? '' : ' inactive'}`}>
            <PreviewPane projectId={projectId} previews={previews} canShare={canControl} active={tab === PREVIEW_TAB && !collapsed} />
          </div>
        )}
        {stream && terminals.map((t) => (
          <TerminalPane key={t.id} projectId={projectId} terminal={t} stream={stream} canType={canControl && !t.exited} active={tab === t.id && !collapsed} onError={setError} />
        ))}
      </div>
    </section>
  );
}

function RunSummary({ run }: { run: RunView }) {
  const label = run.status === 'running' ? 'Running…' : run.status === 'exit' ? `Exit ${run.exitCode}` : STATUS_LABELS[run.status] ?? run.status;
  const tone = run.status === 'running' ? 'live' : run.status === 'exit' && run.exitCode === 0 ? 'ok' : 'bad';
  return (
    <span className="sbx-summary" data-testid="run-summary" title={run.detail ?? undefined}>
      <code className="sbx-command">{run.command}</code>
      <span className={`sbx-pill ${tone}`} data-testid="run-status">{label}</span>
      {run.durationMs !== null && <span className="muted" data-testid="run-duration">{formatDuration(run.durationMs)}</span>}
    </span>
  );
}

const STATUS_LABELS: Record<string, string> = {
  stopped: 'Stopped', 'killed-timeout': 'Time limit', 'killed-memory': 'Memory limit', 'output-capped': 'Output limit',
  error: 'Failed to start', interrupted: 'Interrupted',
};

export function formatDuration(ms: number): string {
  if (ms < 1000) return `${ms} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 1)} s`;
  return `${Math.floor(ms / 60_000)} min ${Math.round((ms % 60_000) / 1000)} s`;
}

/** Columns and rows a new terminal gets before its pane has measured itself. */
function estimateTerminalSize(panel: HTMLElement | null): { cols: number; rows: number } {
  const width = panel?.clientWidth ?? 960;
  const height = (panel?.clientHeight ?? DEFAULT_HEIGHT) - 40;
  return { cols: Math.max(20, Math.min(300, Math.floor((width - 16) / 7.8))), rows: Math.max(5, Math.min(100, Math.floor(height / 17))) };
}

const PlayGlyph = () => <svg width="12" height="12" viewBox="0 0 16 16" aria-hidden="true"><path d="M4 2.5v11l9-5.5z" fill="currentColor" /></svg>;
const StopGlyph = () => <svg width="12" height="12" viewBox="0 0 16 16" aria-hidden="true"><rect x="3" y="3" width="10" height="10" rx="1.5" fill="currentColor" /></svg>;
const TerminalGlyph = () => (
  <svg width="13" height="13" viewBox="0 0 16 16" fill="none" stroke="currentColor" strokeWidth="1.4" strokeLinecap="round" strokeLinejoin="round" aria-hidden="true">
    <rect x="1.8" y="2.5" width="12.4" height="11" rx="1.5" /><path d="M4.5 6l2 2-2 2M8.5 10.5h3" />
  </svg>
);
