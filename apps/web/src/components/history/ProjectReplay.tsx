'use client';
import { useEffect, useState } from 'react';
import type { ProjectSessionView, ProjectTimelineView, VersionView } from '@tandem/api';
import { errorMessage, trpc } from '@/lib/trpc';
import { VersionPane, when, whenExact, who } from './VersionPane';

export interface ProjectReplayProps {
  projectId: string;
  /** The project's sessions, oldest first. */
  sessions: ProjectSessionView[];
}

const MAX_TIME = 8.64e15;
const counts = (inserted: number, deleted: number) => [inserted > 0 ? `+${inserted}` : '', deleted > 0 ? `−${deleted}` : ''].filter(Boolean).join(' ');

/**
 * The project's replay (read-only): pick a session, scrub its steps (bursts of one author across
 * files, in time order), see which files each step changed and by whom, and view any file at that
 * point or its diff against now or a pinned point. Versions come from the server's stored history;
 * nothing live is touched.
 */
export function ProjectReplay({ projectId, sessions }: ProjectReplayProps) {
  const [sessionIndex, setSessionIndex] = useState(sessions.length - 1);
  const [timeline, setTimeline] = useState<ProjectTimelineView | null>(null);
  const [stepIndex, setStepIndex] = useState(0);
  /** The file shown; null: the first file the current step changed. */
  const [picked, setPicked] = useState<string | null>(null);
  const [pinned, setPinned] = useState<number | null>(null);
  const [mode, setMode] = useState<'text' | 'diff'>('text');
  const [version, setVersion] = useState<VersionView | null>(null);
  const [error, setError] = useState<string | null>(null);
  const session = sessions[sessionIndex];
  /** The newest session replays up to now (it may have gone on since the list was read). */
  const newest = sessionIndex === sessions.length - 1;

  useEffect(() => {
    if (!session) return;
    let live = true;
    setTimeline(null);
    setVersion(null);
    trpc.history.projectTimeline.query({ projectId, from: session.start, to: newest ? MAX_TIME : session.end }).then((t) => {
      if (!live) return;
      setTimeline(t);
      setStepIndex(t.steps.length - 1);
      setPicked(null);
    }, (e: unknown) => live && setError(errorMessage(e)));
    return () => {
      live = false;
    };
  }, [projectId, session, newest]);

  const step = timeline?.steps[stepIndex];
  const fileId = picked ?? step?.files.find((f) => f.path !== null)?.fileId ?? null;
  const files = session ? [...session.files, ...(step?.files ?? []).filter((f) => !session.files.some((s) => s.fileId === f.fileId))] : [];
  const shown = files.find((f) => f.fileId === fileId);
  useEffect(() => {
    if (!fileId || !step || shown?.path === null) return;
    let live = true;
    trpc.history.version.query({ projectId, fileId, at: step.at, compareTo: pinned }).then((v) => {
      if (live) {
        setVersion(v);
        setError(null);
      }
    }, (e: unknown) => live && setError(errorMessage(e)));
    return () => {
      live = false;
    };
  }, [projectId, fileId, step, pinned, shown?.path]);

  if (!session) return <div className="muted">No recorded edits in this project yet.</div>;
  const names = (indexes: number[]) => indexes.map((i) => (timeline ? who(timeline.authors[i]!) : '')).join(', ');
  return (
    <div className="time-travel-replay" data-testid="project-replay">
      <label className="row time-travel-session">
        <span className="muted">Session</span>
        <select value={sessionIndex} onChange={(e) => { setSessionIndex(Number(e.target.value)); setPinned(null); }} data-testid="project-session">
          {sessions.map((s, i) => ({ s, i })).reverse().map(({ s, i }) => (
            <option key={i} value={i}>
              {when(s.start)} – {i === sessions.length - 1 ? 'now' : new Date(s.end).toLocaleTimeString(undefined, { hour: '2-digit', minute: '2-digit' })} · {s.authors.map(who).join(', ')} · {s.files.length + s.moreFiles} files
            </option>
          ))}
        </select>
      </label>
      {error && <div className="error" role="alert">{error}</div>}
      {!timeline && !error && <div className="muted">Loading…</div>}
      {timeline && timeline.steps.length === 0 && <div className="muted">No changes recorded in this session.</div>}
      {timeline && step && (
        <>
          <div className="row time-travel-slider">
            <input type="range" min={0} max={timeline.steps.length - 1} value={stepIndex} onChange={(e) => setStepIndex(Number(e.target.value))}
              aria-label="Point in the project's history" aria-valuetext={`${whenExact(step.at)}, ${names(step.authors)}`} data-testid="project-slider" disabled={timeline.steps.length === 1} />
            <span className="muted">{stepIndex + 1} / {timeline.steps.length}</span>
          </div>
          {timeline.truncated && <div className="muted">Only the newest {timeline.steps.length} steps of this session are shown.</div>}
          <div className="row time-travel-step" data-testid="project-step">
            <strong>{whenExact(step.at)}</strong>
            <span>{names(step.authors)}</span>
            <span className="muted">{step.files.length + step.moreFiles === 1 ? '1 file' : `${step.files.length + step.moreFiles} files`}</span>
          </div>
          <ul className="time-travel-files" aria-label="Files changed at this point" data-testid="project-step-files">
            {step.files.map((f) => (
              <li key={f.fileId}>
                <button type="button" className={`small-button${f.fileId === fileId ? ' on' : ''}`} aria-pressed={f.fileId === fileId} disabled={f.path === null}
                  onClick={() => setPicked(f.fileId)} data-testid="project-step-file" title={f.path === null ? 'Deleted since' : `Show ${f.path} at this point`}>
                  <span className="time-travel-file-path">{f.path ?? 'deleted file'}</span>
                  <span className="muted">{counts(f.inserted, f.deleted)}</span>
                  {f.authors.join() !== step.authors.join() && <span className="muted">{names(f.authors)}</span>}
                </button>
              </li>
            ))}
            {step.moreFiles > 0 && <li className="muted">and {step.moreFiles} more</li>}
          </ul>
          <div className="row time-travel-step">
            <label className="row time-travel-file">
              <span className="muted">File</span>
              <select value={picked ?? ''} onChange={(e) => setPicked(e.target.value || null)} data-testid="project-file">
                <option value="">Follow the changes{shown && picked === null ? ` (${shown.path ?? ''})` : ''}</option>
                {files.filter((f) => f.path !== null).map((f) => <option key={f.fileId} value={f.fileId}>{f.path}</option>)}
              </select>
            </label>
            <span className="spacer" />
            <button type="button" className={`small-button${mode === 'text' ? ' on' : ''}`} onClick={() => setMode('text')} aria-pressed={mode === 'text'}>Version</button>
            <button type="button" className={`small-button${mode === 'diff' ? ' on' : ''}`} onClick={() => setMode('diff')} aria-pressed={mode === 'diff'} data-testid="project-diff">
              {pinned === null ? 'Diff with now' : `Diff with ${whenExact(pinned)}`}
            </button>
            <button type="button" className="small-button" onClick={() => setPinned(pinned === null ? step.at : null)} title="Compare other points with this one instead of now" data-testid="project-pin">
              {pinned === null ? 'Pin this point' : 'Unpin'}
            </button>
          </div>
          {shown?.path === null && <div className="muted">This file was deleted since.</div>}
          {version && shown && shown.path !== null && <VersionPane version={version} mode={mode} label={`${shown.path} at this point`} against={pinned === null ? 'now' : whenExact(pinned)} />}
        </>
      )}
    </div>
  );
}
