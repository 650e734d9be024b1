'use client';
import { useEffect, useLayoutEffect, useMemo, useRef, useState } from 'react';
import type { GeneratedFileView, RunView, SandboxStatus } from '@tandem/api';
import type { ProjectStream } from '@/lib/ProjectStream';
import { errorMessage, trpc } from '@/lib/trpc';
import type { OutputChunk, RunOutputState } from './useRuns';
import { LinkedText } from '@/components/ide/LinkedText';

export interface RunOutputViewProps {
  projectId: string;
  stream: ProjectStream | null;
  run: RunView | null;
  output: RunOutputState;
  status: SandboxStatus | null;
  canControl: boolean;
  onError: (message: string) => void;
}

const SOURCE_LABELS: Record<string, string> = {
  settings: 'project settings', 'tandem.json': 'tandem.json', 'package.json start': 'package.json “start”',
  'package.json main': 'package.json “main”', 'main.py': 'main.py', 'index.js': 'index.js', 'main.js': 'main.js',
};

/** The shown run's output (stdout and stderr interleaved as printed), how it ended, and the files it wrote. */
export function RunOutputView({ projectId, stream, run, output, status, canControl, onError }: RunOutputViewProps) {
  const scroller = useRef<HTMLDivElement>(null);
  const stick = useRef(true);
  const chunks = useMemo(() => mergeChunks(output.runId === run?.id ? output.chunks : []), [output, run?.id]);

  // Follow the output while the reader is at the bottom; leave them alone once they scroll up.
  useLayoutEffect(() => {
    const el = scroller.current;
    if (el && stick.current) el.scrollTop = el.scrollHeight;
  }, [chunks, run?.status]);

  if (status && !status.available) {
    return (
      <div className="sbx-empty" data-testid="sandbox-unavailable">
        <strong>Running code is disabled on this server.</strong>
        <span className="muted">Its sandbox is not available: {status.missing.join('; ')}.</span>
      </div>
    );
  }
  if (!run) {
    const cmd = status?.runCommand;
    return (
      <div className="sbx-empty" data-testid="output-empty">
        {cmd ? (
          <span>Press <strong>Run</strong> to start <code>{cmd.command}</code> <span className="muted">(from {SOURCE_LABELS[cmd.source] ?? cmd.source})</span> in a sandbox. Everyone in the project sees the output.</span>
        ) : (
          <span>This project has no run command yet. Add a <code>tandem.json</code> with <code>{'{"run": "…"}'}</code>, a <code>package.json</code> start script, or set one in the project settings.</span>
        )}
        {status && <span className="muted small">{describeLimits(status.limits)}</span>}
      </div>
    );
  }

  return (
    <div className="sbx-output-wrap">
      <div className="sbx-output" ref={scroller} onScroll={(e) => {
        const el = e.currentTarget;
        stick.current = el.scrollTop + el.clientHeight >= el.scrollHeight - 24;
      }}>
        <div className="sbx-output-head muted">
          <span className="sbx-output-command">$ {run.command}</span>
          <span>started by {run.startedBy.name} · {new Date(run.startedAt).toLocaleTimeString()}</span>
        </div>
        {output.omitted > 0 && <div className="muted small">… {output.omitted.toLocaleString()} earlier characters not kept</div>}
        <pre data-testid="run-output">{chunks.map((c, i) => <span key={i} className={c.stream === 'stderr' ? 'stderr' : undefined}><LinkedText text={c.text} /></span>)}</pre>
        {run.status !== 'running' && <RunEnd run={run} />}
      </div>
      {run.status !== 'running' && <GeneratedFiles projectId={projectId} stream={stream} runId={run.id} canImport={canControl} onError={onError} />}
    </div>
  );
}

function RunEnd({ run }: { run: RunView }) {
  const ok = run.status === 'exit' && run.exitCode === 0;
  const what = run.status === 'exit' ? `Exited with code ${run.exitCode}` : (run.detail ?? `Ended (${run.status})`).replace(/\.$/, '');
  return (
    <div className={`sbx-end ${ok ? 'ok' : 'bad'}`} data-testid="run-end">
      {what}{run.durationMs !== null ? ` · ${run.durationMs.toLocaleString()} ms` : ''}
      {run.status === 'exit' && run.detail ? <div className="muted">{run.detail}</div> : null}
    </div>
  );
}

/** Files the run wrote that are not in the project, with “Import into project” for editors. */
function GeneratedFiles({ projectId, stream, runId, canImport, onError }: {
  projectId: string; stream: ProjectStream | null; runId: string; canImport: boolean; onError: (m: string) => void;
}) {
  const [files, setFiles] = useState<GeneratedFileView[]>([]);
  const [importing, setImporting] = useState<string | null>(null);

  // Listed after each run, and again whenever someone imports one (it is then a project file).
  useEffect(() => {
    let cancelled = false;
    const load = () => trpc.sandbox.generated.list.query({ projectId }).then((r) => !cancelled && setFiles(r.files), () => {});
    void load();
    const off = stream?.on('sandbox.generated', () => void load());
    return () => {
      cancelled = true;
      off?.();
    };
  }, [projectId, runId, stream]);

  if (files.length === 0) return null;
  const importFile = async (path: string) => {
    setImporting(path);
    try {
      await trpc.sandbox.generated.import.mutate({ projectId, path });
      setFiles((cur) => cur.filter((f) => f.path !== path));
    } catch (e) {
      onError(errorMessage(e));
    } finally {
      setImporting(null);
    }
  };
  return (
    <aside className="sbx-generated" data-testid="generated-files">
      <div className="sbx-generated-head">
        Files the program wrote <span className="muted">(only in the sandbox)</span>
      </div>
      <ul>
        {files.map((f) => (
          <li key={f.path} data-testid="generated-file" data-path={f.path}>
            <div className="sbx-generated-name">
              <code title={f.path}>{f.path}</code>
              <span className="muted small">{formatBytes(f.bytes)}</span>
            </div>
            {canImport && (
              <button className="small-button" onClick={() => void importFile(f.path)} disabled={importing !== null}>
                {importing === f.path ? 'Importing…' : 'Import into project'}
              </button>
            )}
          </li>
        ))}
      </ul>
    </aside>
  );
}

function mergeChunks(chunks: OutputChunk[]): OutputChunk[] {
  const out: OutputChunk[] = [];
  for (const c of chunks) {
    const last = out.at(-1);
    if (last && last.stream === c.stream) out[out.length - 1] = { stream: c.stream, text: last.text + c.text };
    else out.push({ ...c });
  }
  return out;
}

function describeLimits(l: SandboxStatus['limits']): string {
  return `Sandbox: no network, ${Math.round(l.memoryBytes / 1024 / 1024)} MiB memory, ${l.pidsMax} processes, ${l.cpuCores} CPU, ${Math.round(l.runTimeoutMs / 1000)} s per run, ${Math.round(l.outputCapBytes / 1024)} KiB of output.`;
}

function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KB`;
  return `${(n / 1024 / 1024).toFixed(1)} MB`;
}
