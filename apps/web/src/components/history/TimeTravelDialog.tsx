'use client';
import { useEffect, useMemo, useRef, useState } from 'react';
import type { AuthorView, FileTimelineView, ProjectSessionView, VersionView } from '@tandem/api';
import { errorMessage, trpc } from '@/lib/trpc';

export interface TimeTravelDialogProps {
  projectId: string;
  /** The file whose history to replay; null shows the project's sessions only. */
  file: { id: string; path: string } | null;
  onClose(): void;
}

const when = (at: number) => new Date(at).toLocaleString(undefined, { month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit' });
const who = (a: AuthorView) => (a.kind === 'person' ? a.user.name : a.kind === 'ai' ? `AI · ${a.model}${a.approvedBy ? ` (accepted by ${a.approvedBy.name})` : ''}` : 'Tandem');

/**
 * Time travel (read-only): the file's edits as steps grouped into sessions; a slider replays them
 * with their authors; any point is shown, or diffed against now or a pinned point. Nothing here
 * touches the live document: versions are computed by the server from the stored history.
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

  const lines = useMemo(() => (version ? version.text.split('\n') : []), [version]);

  return (
    <dialog ref={ref} className="confirm-dialog time-travel-dialog" aria-labelledby="time-travel-title" onCancel={onClose} onClick={(e) => { if (e.target === e.currentTarget) onClose(); }} data-testid="time-travel">
      <div className="row">
        <h2 id="time-travel-title">History{file ? ` of ${file.path}` : ''}</h2>
        <span className="spacer" />
        <button type="button" className="small-button" onClick={onClose}>Close</button>
      </div>
      {error && <div className="error" role="alert">{error}</div>}
      {file && timeline === null && !error && <div className="muted">Loading…</div>}
      {timeline && timeline.steps.length === 0 && <div className="muted">No recorded edits of this file yet.</div>}
      {timeline && current && (
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
              <strong>{when(step.at)}</strong>
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
          {version && mode === 'text' && (
            <pre className="time-travel-text" data-testid="time-travel-text" aria-label="The file at this point">
              {lines.map((l, i) => <span key={i} className="time-travel-line"><span className="muted line-no">{i + 1}</span>{l}{'\n'}</span>)}
              {version.truncated && <span className="muted">… (cut: the file was longer)</span>}
            </pre>
          )}
          {version && mode === 'diff' && (
            <section className="checkpoint-diff" aria-label="Changes from this point" data-testid="time-travel-hunks">
              {version.hunks.length === 0 && <div className="muted">No differences.</div>}
              {version.hunks.map((h, i) => (
                <pre key={i} className="checkpoint-hunk">
                  <span className="diff-at muted">@@ line {h.line}</span>
                  {split(h.removed).map((l, j) => <span key={`r${j}`} className="diff-removed">- {l}</span>)}
                  {split(h.inserted).map((l, j) => <span key={`a${j}`} className="diff-added">+ {l}</span>)}
                </pre>
              ))}
              {version.hunksTruncated && <div className="muted">More changes are not shown.</div>}
            </section>
          )}
        </>
      )}
      {sessions && sessions.length > 0 && (
        <details className="time-travel-project" data-testid="time-travel-project">
          <summary>Project sessions ({sessions.length})</summary>
          <ul>
            {[...sessions].reverse().map((s, i) => (
              <li key={i}><strong>{when(s.start)}</strong> <span className="muted">· {s.authors.map(who).join(', ')} · {s.files.map((f) => f.path ?? 'deleted file').join(', ')}</span></li>
            ))}
          </ul>
        </details>
      )}
    </dialog>
  );
}

function split(text: string): string[] {
  if (text === '') return [];
  const out = text.split('\n');
  if (out[out.length - 1] === '') out.pop();
  return out;
}
