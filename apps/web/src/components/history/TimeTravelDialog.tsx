'use client';
import { useEffect, useRef, useState } from 'react';
import type { FileTimelineView, ProjectSessionView, VersionView } from '@tandem/api';
import { errorMessage, trpc } from '@/lib/trpc';
import { ProjectReplay } from './ProjectReplay';
import { VersionPane, when, whenExact, who } from './VersionPane';

export interface TimeTravelDialogProps {
  projectId: string;
  /** The file whose history to replay; null shows the project's replay only. */
  file: { id: string; path: string } | null;
  onClose(): void;
}

/**
 * Time travel (read-only), per file or per project. File: the file's edits as steps grouped into
 * sessions; a slider replays them with their authors; any point is shown, or diffed against now
 * or a pinned point. Project: the same across files (ProjectReplay). Nothing here touches the
 * live documents: versions are computed by the server from the stored history.
 */
export function TimeTravelDialog({ projectId, file, onClose }: TimeTravelDialogProps) {
  const ref = useRef<HTMLDialogElement>(null);
  const [timeline, setTimeline] = useState<FileTimelineView | null>(null);
  const [sessions, setSessions] = useState<ProjectSessionView[] | null>(null);
  const [session, setSession] = useState(0);
  const [stepIndex, setStepIndex] = useState(0);
  const [pinned, setPinned] = useState<number | null>(null);
  const [mode, setMode] = useState<'text' | 'diff'>('text');
  const [version, setVersion] = useState<VersionView | null>(null);
  const [error, setError] = useState<string | null>(null);
  const fileId = file?.id ?? null;
  const [tab, setTab] = useState<'file' | 'project'>(fileId ? 'file' : 'project');
  /** The project replay stays mounted once opened (switching tabs keeps its place). */
  const [projectOpened, setProjectOpened] = useState(!fileId);

  useEffect(() => {
    ref.current?.showModal();
    trpc.history.projectSessions.query({ projectId }).then(setSessions, (e: unknown) => setError(errorMessage(e)));
    if (!fileId) return;
    trpc.history.timeline.query({ projectId, fileId }).then((t) => {
      setTimeline(t);
      const last = t.sessions.length - 1;
      setSession(Math.max(0, last));
      setStepIndex(t.sessions[last]?.toStep ?? 0);
    }, (e: unknown) => setError(errorMessage(e)));
  }, [projectId, fileId]);

  const current = timeline?.sessions[session];
  const step = timeline && current ? timeline.steps[stepIndex - timeline.firstStep] : undefined;
  useEffect(() => {
    if (!fileId || !step) return;
    let live = true;
    trpc.history.version.query({ projectId, fileId, at: step.at, compareTo: pinned }).then((v) => live && setVersion(v), (e: unknown) => live && setError(errorMessage(e)));
    return () => {
      live = false;
    };
  }, [projectId, fileId, step, pinned]);

  return (
    <dialog ref={ref} className="confirm-dialog time-travel-dialog" aria-labelledby="time-travel-title" onCancel={onClose} onClick={(e) => { if (e.target === e.currentTarget) onClose(); }} data-testid="time-travel">
      <div className="row">
        <h2 id="time-travel-title">History</h2>
        <div className="time-travel-tabs" role="tablist" aria-label="Replay">
          {file && <button type="button" role="tab" aria-selected={tab === 'file'} className={`small-button${tab === 'file' ? ' on' : ''}`} onClick={() => setTab('file')} data-testid="time-travel-file-tab" title={file.path}>{file.path}</button>}
          <button type="button" role="tab" aria-selected={tab === 'project'} className={`small-button${tab === 'project' ? ' on' : ''}`} onClick={() => { setTab('project'); setProjectOpened(true); }} data-testid="time-travel-project-tab">Project</button>
        </div>
        <span className="spacer" />
        <button type="button" className="small-button" onClick={onClose}>Close</button>
      </div>
      {projectOpened && (
        <div className="time-travel-tab" hidden={tab !== 'project'}>
          {sessions ? <ProjectReplay projectId={projectId} sessions={sessions} /> : !error && <div className="muted">Loading…</div>}
        </div>
      )}
      {error && <div className="error" role="alert">{error}</div>}
      {tab === 'file' && file && timeline === null && !error && <div className="muted">Loading…</div>}
      {tab === 'file' && timeline && timeline.steps.length === 0 && <div className="muted">No recorded edits of this file yet.</div>}
      {tab === 'file' && timeline && current && (
        <>
          <label className="row time-travel-session">
            <span className="muted">Session</span>
            <select value={session} onChange={(e) => { const s = Number(e.target.value); setSession(s); setStepIndex(timeline.sessions[s]!.toStep); }} data-testid="time-travel-session">
              {timeline.sessions.map((s, i) => (
                <option key={i} value={i}>{when(s.start)} – {new Date(s.end).toLocaleTimeString(undefined, { hour: '2-digit', minute: '2-digit' })} · {s.authors.map(who).join(', ')} · {s.toStep - s.fromStep + 1} steps</option>
              ))}
            </select>
          </label>
          <div className="row time-travel-slider">
            <input type="range" min={current.fromStep} max={current.toStep} value={stepIndex} onChange={(e) => setStepIndex(Number(e.target.value))}
              aria-label="Point in history" aria-valuetext={step ? when(step.at) : ''} data-testid="time-travel-slider" disabled={current.fromStep === current.toStep} />
            <span className="muted">{stepIndex - current.fromStep + 1} / {current.toStep - current.fromStep + 1}</span>
          </div>
          {step && (
            <div className="row time-travel-step" data-testid="time-travel-step">
              <strong>{whenExact(step.at)}</strong>
              <span>{step.authors.map(who).join(', ')}</span>
              <span className="muted">{step.inserted > 0 ? `+${step.inserted}` : ''}{step.deleted > 0 ? ` −${step.deleted}` : ''} chars</span>
              <span className="spacer" />
              <button type="button" className={`small-button${mode === 'text' ? ' on' : ''}`} onClick={() => setMode('text')} aria-pressed={mode === 'text'}>Version</button>
              <button type="button" className={`small-button${mode === 'diff' ? ' on' : ''}`} onClick={() => setMode('diff')} aria-pressed={mode === 'diff'} data-testid="time-travel-diff">
                {pinned === null ? 'Diff with now' : `Diff with ${when(pinned)}`}
              </button>
              <button type="button" className="small-button" onClick={() => setPinned(pinned === null ? step.at : null)} title="Compare other points with this one instead of now">
                {pinned === null ? 'Pin this point' : 'Unpin'}
              </button>
            </div>
          )}
          {version && <VersionPane version={version} mode={mode} label="The file at this point" against={pinned === null ? 'now' : whenExact(pinned)} />}
        </>
      )}
    </dialog>
  );
}
