'use client';
import { useEffect, useRef, useState } from 'react';
import type { AgentFileView, AgentHunkView, AgentItem, AgentRunView } from '@tandem/protocol';
import { CommentButton, HunkComments, threadsOn } from '@/components/comments/HunkComments';
import type { Comments } from '@/lib/comments/useComments';
import { useQuery } from '@/lib/useQuery';
import { trpc } from '@/lib/trpc';
import type { AgentRuns } from '@/lib/agent/useAgentRuns';
import './agent.css';

type Role = 'owner' | 'editor' | 'viewer';

export interface AgentPanelProps {
  projectId: string;
  role: Role;
  /** The runs, kept by the workspace (the editor draws the shown run's changes too). */
  agent: AgentRuns;
  /** The project's comment threads: those on a change show under it; anyone may start one there. */
  comments: Comments;
  meId: string | null;
}

const STATUS_TEXT: Record<AgentRunView['status'], string> = {
  running: 'running', waiting_permission: 'waiting for permission', ready: 'ready for review', applied: 'applied',
  rejected: 'rejected', stopped: 'stopped', interrupted: 'interrupted', failed: 'failed',
};

/**
 * The Agent panel: start a run, the project's runs with their states, and the selected run as
 * everyone sees it — the agent's text streaming, each tool call with its result, commands with
 * their output, permission prompts, steering, Stop — then its changeset to review per file and
 * per hunk, Run checks and Undo. Buttons follow the role; the server enforces the policies.
 */
export function AgentPanel({ projectId, role, agent, comments, meId }: AgentPanelProps) {
  const policy = useQuery(() => trpc.agent.policy.query({ projectId }), [projectId]);
  const external = useQuery(() => trpc.agent.externalAgents.query({ projectId }), [projectId]);
  const engines = external.data?.agents.filter((a) => a.enabled) ?? [];
  const [engine, setEngine] = useState('');
  const [task, setTask] = useState('');
  const [steer, setSteer] = useState('');
  const scroller = useRef<HTMLDivElement>(null);
  const run = agent.runs.find((r) => r.id === agent.selectedId) ?? null;
  const live = run?.status === 'running' || run?.status === 'waiting_permission';
  const canSteer = role === 'owner' || (role === 'editor' && policy.data?.policy.starters !== 'owner');
  const canReview = role !== 'viewer';
  const { act } = agent;

  // Follow the transcript while it grows, unless the reader scrolled up.
  useEffect(() => {
    const el = scroller.current;
    if (el && el.scrollHeight - el.scrollTop - el.clientHeight < 120) el.scrollTop = el.scrollHeight;
  }, [agent.items, agent.output]);

  const start = () => act(async () => {
    const created = await trpc.agent.start.mutate({ projectId, task, ...(engine ? { agent: engine } : {}) });
    setTask('');
    agent.select(created.id);
  });
  const ref = run ? { projectId, runId: run.id } : null;

  return (
    <aside className="review-panel agent-panel" data-testid="agent-panel" aria-label="Agent">
      <div className="ide-section-head"><span>Agent</span></div>
      {canSteer && (
        <form className="agent-task" onSubmit={(e) => { e.preventDefault(); if (task.trim()) void start(); }}>
          <textarea value={task} onChange={(e) => setTask(e.target.value)} placeholder="Ask the agent to change the project…" rows={2} data-testid="agent-task"
            onKeyDown={(e) => { if (e.key === 'Enter' && (e.metaKey || e.ctrlKey)) { e.preventDefault(); if (task.trim()) void start(); } }} />
          <div className="agent-task-actions">
            {engines.length > 0 && (
              <select value={engine} onChange={(e) => setEngine(e.target.value)} aria-label="Agent" data-testid="agent-engine">
                <option value="">Built-in agent</option>
                {engines.map((a) => <option key={a.id} value={a.id}>{a.label}</option>)}
              </select>
            )}
            <button className="button small" type="submit" disabled={!task.trim()} data-testid="agent-start">Start run</button>
          </div>
        </form>
      )}
      {agent.error && <div className="review-error" role="alert">{agent.error}</div>}
      {agent.runs.length > 0 && (
        <div className="agent-runs" role="list">
          {agent.runs.map((r) => (
            <button key={r.id} role="listitem" className={`agent-run-row${r.id === agent.selectedId ? ' selected' : ''}`} onClick={() => agent.select(r.id)} data-testid="agent-run">
              <span className="agent-run-task">{r.task}</span>
              <span className={`review-status agent-status-${r.status}`}>{STATUS_TEXT[r.status]}</span>
            </button>
          ))}
        </div>
      )}
      <div className="review-scroll" ref={scroller}>
        {!run && agent.runs.length > 0 && <p className="review-empty muted">Select a run to see it.</p>}
        {!run && agent.runs.length === 0 && <p className="review-empty muted">No agent runs yet.{canSteer ? ' Describe a change above: the agent edits a private copy, runs commands in the sandbox, and everyone reviews the result.' : ''}</p>}
        {run && (
          <>
            <div className="agent-meta muted">
              {run.startedBy.name} · {run.model === 'ACP' ? `${run.provider} (external agent)` : run.model} · {run.steps} steps{run.model === 'ACP' && run.tokens === 0 ? '' : ` · ${run.tokens.toLocaleString()} tokens`}
            </div>
            {agent.items.map((item) => item && (
              <Item key={item.seq} item={item} output={item.kind === 'tool_call' ? agent.output[item.toolCallId] : undefined}
                onAnswer={canSteer && ref ? (requestId, optionId) => act(() => trpc.agent.answerPermission.mutate({ ...ref, requestId, optionId })) : null} />
            ))}
            {run.status === 'running' && <div className="agent-working muted">Working…</div>}
            {run.error && <div className="review-error">{run.error}</div>}
            {agent.changeset && agent.changeset.files.length > 0 && ref && (
              <section className="agent-changes" data-testid="agent-changeset">
                <div className="review-subhead">Changes ({agent.changeset.files.length} files)</div>
                {run.lastCheck && (
                  <div className={`agent-check ${run.lastCheck.exitCode === 0 ? 'ok' : 'bad'}`} data-testid="agent-last-check">
                    {run.lastCheck.command}: exit {run.lastCheck.exitCode ?? '–'}{run.lastCheck.reason ? ` (${run.lastCheck.reason})` : ''}
                    {run.lastCheck.by ? ` · run by ${run.lastCheck.by.name}` : ' · by the agent'}
                  </div>
                )}
                {canReview && !live && (
                  <div className="review-actions">
                    <button className="small-button" onClick={() => act(() => trpc.agent.acceptAll.mutate(ref))} data-testid="agent-accept-all">Accept all</button>
                    <button className="small-button" onClick={() => act(() => trpc.agent.rejectAll.mutate(ref))}>Reject all</button>
                    <button className="small-button" onClick={() => act(() => trpc.agent.runChecks.mutate(ref))} data-testid="agent-run-checks">Run checks</button>
                    {agent.changeset.undoable && <button className="small-button" onClick={() => act(() => trpc.agent.undo.mutate(ref))} data-testid="agent-undo">Undo</button>}
                  </div>
                )}
                {agent.changeset.files.map((f) => (
                  <FileChange key={f.path} file={f} canReview={canReview && !live} runId={run.id} comments={comments} meId={meId} canModerate={canReview}
                    onAll={(accept) => act(() => (accept ? trpc.agent.acceptAll : trpc.agent.rejectAll).mutate({ ...ref, path: f.path }))}
                    onHunk={(hunk, accept) => act(() => (accept ? trpc.agent.acceptHunk : trpc.agent.rejectHunk).mutate({ ...ref, path: f.path, hunk }))} />
                ))}
              </section>
            )}
          </>
        )}
      </div>
      {run && live && canSteer && ref && (
        <form className="agent-steer" onSubmit={(e) => { e.preventDefault(); const text = steer.trim(); if (text) void act(async () => { await trpc.agent.steer.mutate({ ...ref, text }); setSteer(''); }); }}>
          <input value={steer} onChange={(e) => setSteer(e.target.value)} placeholder="Tell the agent something…" data-testid="agent-steer" />
          <button className="small-button" type="submit" disabled={!steer.trim()}>Send</button>
          <button className="small-button danger" type="button" onClick={() => act(() => trpc.agent.stop.mutate(ref))} data-testid="agent-stop">Stop</button>
        </form>
      )}
    </aside>
  );
}

function Item({ item, output, onAnswer }: { item: AgentItem; output: string | undefined; onAnswer: ((requestId: string, optionId: 'allow' | 'deny') => void) | null }) {
  switch (item.kind) {
    case 'user_message':
      return <div className={`agent-item agent-user${item.steering ? ' steering' : ''}`}><strong>{item.author.name}{item.steering ? ' (steering)' : ''}:</strong> {item.text}</div>;
    case 'agent_message':
      return <div className="agent-item agent-text">{item.text}</div>;
    case 'thought':
      return <div className="agent-item agent-thought" data-testid="agent-thought">{item.text}</div>;
    case 'plan':
      return (
        <ol className="agent-item agent-plan" data-testid="agent-plan" aria-label="Plan">
          {item.entries.map((e, i) => <li key={i} className={`plan-${e.status}`}>{e.content}</li>)}
        </ol>
      );
    case 'tool_call': {
      const shown = item.command ? item.command.tail : output;
      return (
        <div className={`agent-item agent-tool status-${item.status}`} data-testid="agent-tool-call">
          <div className="agent-tool-head">
            <span className="agent-tool-kind">{item.toolKind}</span>
            <span className="agent-tool-title">{item.title}</span>
            <span className="agent-tool-summary muted">{item.status === 'pending' ? 'generating…' : item.status === 'in_progress' ? '…' : item.summary}</span>
          </div>
          {item.status === 'pending' && item.inputText && <pre className="agent-output agent-input" data-testid="agent-tool-input">{item.inputText}</pre>}
          {item.toolKind === 'execute' && shown && <pre className="agent-output">{shown}</pre>}
        </div>
      );
    }
    case 'permission':
      return (
        <div className="agent-item agent-permission" data-testid="agent-permission">
          <div>The agent asks permission for <code>{item.command}</code></div>
          {item.outcome === null
            ? (onAnswer
              ? <div className="review-actions">
                <button className="small-button" onClick={() => onAnswer(item.requestId, 'allow')} data-testid="agent-allow">Allow</button>
                <button className="small-button danger" onClick={() => onAnswer(item.requestId, 'deny')} data-testid="agent-deny">Deny</button>
              </div>
              : <div className="muted">Waiting for someone allowed to decide…</div>)
            : <div className="muted">{item.outcome.outcome === 'cancelled' ? 'Cancelled' : `${item.outcome.optionId === 'allow' ? 'Allowed' : 'Denied'} by ${item.outcome.by.name}`}</div>}
        </div>
      );
    case 'notice':
      return <div className={`agent-item agent-notice${item.tone === 'error' ? ' error' : ''}`}>{item.text}</div>;
  }
}

interface FileChangeProps {
  file: AgentFileView;
  canReview: boolean;
  onAll(accept: boolean): void;
  onHunk(hunk: number, accept: boolean): void;
  runId: string;
  comments: Comments;
  meId: string | null;
  canModerate: boolean;
}

function FileChange({ file, canReview, onAll, onHunk, runId, comments, meId, canModerate }: FileChangeProps) {
  const label = file.kind === 'rename' ? `${file.path} → ${file.newPath}` : file.path;
  return (
    <div className="review-card agent-file" data-testid="agent-file" data-path={file.path}>
      <div className="review-card-head">
        <span className={`agent-kind kind-${file.kind}`}>{file.kind}</span>
        <span className="agent-file-path">{label}</span>
        <span className={`review-status status-${file.status}`}>{file.status.replace('_', ' ')}</span>
      </div>
      {canReview && file.status === 'ready' && (
        <div className="review-actions">
          <button className="small-button" onClick={() => onAll(true)} data-testid="agent-accept-file">Accept file</button>
          <button className="small-button" onClick={() => onAll(false)} data-testid="agent-reject-file">Reject file</button>
        </div>
      )}
      {file.hunks.map((h) => (
        <ChangeRow key={h.index} file={file} h={h} canReview={canReview} onHunk={onHunk} runId={runId} comments={comments} meId={meId} canModerate={canModerate} />
      ))}
    </div>
  );
}

function ChangeRow({ file, h, canReview, onHunk, runId, comments, meId, canModerate }: Omit<FileChangeProps, 'onAll'> & { h: AgentHunkView }) {
  const [drafting, setDrafting] = useState(false);
  const target = h.anchor && file.fileId
    ? { fileId: file.fileId, anchor: h.anchor, excerpt: h.removed || h.inserted, ownerId: runId }
    : null;
  const threads = target ? threadsOn(comments, runId, target.anchor).length : 0;
  return (
    <div className={`review-hunk decision-${h.decision}`} data-testid="agent-hunk">
      <div className="review-hunk-head">
        <span>{file.kind !== 'modify' && h.index === 0 ? file.kind : `change ${h.index + (file.kind === 'rename' ? 0 : 1)}`}</span>
        {h.status !== 'intact' && <span className="review-stale">{h.status}</span>}
        <span className="spacer" />
        {h.decision !== 'pending' && <span className={`review-decision ${h.decision}`}>{h.decision}</span>}
        {target && !drafting && <CommentButton count={threads} onClick={() => setDrafting(true)} />}
        {canReview && h.decision === 'pending' && file.status === 'ready' && (
          <>
            <button className="small-button" disabled={h.status !== 'intact'} onClick={() => onHunk(h.index, true)}>Accept</button>
            <button className="small-button" onClick={() => onHunk(h.index, false)}>Reject</button>
          </>
        )}
      </div>
      <pre className="review-diff">
        {h.removed && h.removed.replace(/\n$/, '').split('\n').map((l, i) => <div key={`d${i}`} className="review-del">- {l}</div>)}
        {h.inserted && h.inserted.replace(/\n$/, '').split('\n').slice(0, 80).map((l, i) => <div key={`a${i}`} className="review-add">+ {l}</div>)}
      </pre>
      <HunkComments comments={comments} target={target} drafting={drafting} onDraftDone={() => setDrafting(false)} canModerate={canModerate} meId={meId} />
    </div>
  );
}
