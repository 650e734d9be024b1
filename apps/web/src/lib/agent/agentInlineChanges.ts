import type { AgentChangesetView, AgentRunView } from '@tandem/protocol';
import type { EncodedRange } from '@/lib/review/anchors';

/** One pending change of an agent run drawn over a file in the editor (InlineDiffDecorations). */
export interface AgentInlineChange {
  key: string;
  fileId: string;
  /** Over the removed text of the live file; null for a change to the whole file (delete, rename). */
  anchor: EncodedRange | null;
  removed: string;
  inserted: string;
  /** The server found the code under it changed (or deleted) since the agent wrote it. */
  stale: boolean;
  /** On the first change of the run in the file: the card above it. */
  header: { runId: string; task: string; label: string; live: boolean } | null;
}

/**
 * The pending changes of the run shown in the Agent panel, per live file: its content hunks
 * (drawn as an AI edit's are, anchored on each tab's own copy) and, for a file it deletes or
 * renames, a card at the top. Created files have no document to draw on (the panel shows them).
 */
export function agentInlineChanges(run: AgentRunView | null, changeset: AgentChangesetView | null): AgentInlineChange[] {
  if (!run || !changeset || changeset.runId !== run.id) return [];
  const live = run.status === 'running' || run.status === 'waiting_permission';
  const out: AgentInlineChange[] = [];
  for (const file of changeset.files) {
    if (file.fileId === null) continue;
    const pending = file.hunks.filter((h) => h.decision === 'pending' && h.status !== 'conflict');
    if (pending.length === 0) continue;
    const changes = pending.filter((h) => h.anchor !== null).length;
    const what = [
      file.kind === 'delete' ? 'deletes this file' : file.kind === 'rename' ? `renames it to ${file.newPath}` : '',
      changes > 0 ? `${changes} change${changes === 1 ? '' : 's'}` : '',
    ].filter(Boolean).join(', ');
    const label = `${what} ${live ? '(working…)' : 'to review'}`;
    pending.forEach((h, i) => {
      out.push({
        key: `${run.id}:${file.path}:${h.index}`,
        fileId: file.fileId!,
        anchor: h.anchor,
        removed: h.removed,
        inserted: h.anchor ? h.inserted : '',
        stale: h.status === 'stale',
        header: i === 0 ? { runId: run.id, task: run.task, label, live } : null,
      });
    });
  }
  return out;
}
