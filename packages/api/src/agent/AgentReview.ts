import { randomUUID } from 'node:crypto';
import {
  AppError, FILE_TEXT, TREE_MAP, fileDocName, treeDocName, type AgentFileView, type AgentUserRef, type Role, type TreeEntry,
} from '@tandem/protocol';
import {
  AiEditOrigin, applyChangesetHunk, hunkStatus, isTerminal, mayReview, reviewIndices, transition,
  type ApprovalPolicy, type HunkStatus, type SuggestionEvent,
} from '@tandem/review';
import type { AgentDocuments, ChangesetEntry } from './AgentWorkspace.ts';
import type { LiveAgentRun } from './LiveAgentRun.ts';

export interface AgentReviewer {
  userId: string;
  name: string;
  role: Role;
}

export type ChangesetDecision =
  | { type: 'acceptHunk' | 'rejectHunk' | 'approve'; path: string; hunk: number }
  | { type: 'acceptAll' | 'rejectAll'; path?: string };

/**
 * Group review of a run's changeset, on the same machinery as single-selection AI edits: each
 * file is a suggestion state (`transition`, approval policies P1–P6); accepted hunks are applied
 * with `applyChangesetHunk` under ONE `AiEditOrigin` per run, recorded by the run's `AiEditUndo`
 * (the same undo as a suggestion's), so Undo reverts the whole accepted change for everyone. A
 * stale or conflicted hunk is refused (never applied elsewhere).
 */
export class AgentReview {
  readonly #docs: AgentDocuments;
  readonly #maxFiles: number;

  /** `maxFiles`: entries a project tree may hold (TANDEM_MAX_FILES_PER_PROJECT); accepted new files count. */
  constructor(docs: AgentDocuments, maxFiles = Infinity) {
    this.#docs = docs;
    this.#maxFiles = maxFiles;
  }

  /** The changeset with each hunk's live status, for display. */
  async files(run: LiveAgentRun): Promise<AgentFileView[]> {
    const out: AgentFileView[] = [];
    for (const e of run.workspace.entries.values()) {
      const statuses = new Map<number, HunkStatus>();
      if (e.fileId !== null && e.hunks.length > 0) {
        await this.#docs.readDocument(fileDocName(run.view.projectId, e.fileId), (doc) => {
          for (const h of e.hunks) statuses.set(h.index, hunkStatus(doc, h));
        });
      }
      const reviewOf = (i: number) => e.review.hunks[i] ?? { decision: 'pending' as const, approvals: [], decidedBy: null };
      const pseudo = (label: string) => ({ index: 0, removed: '', inserted: label, decision: reviewOf(0).decision, status: 'intact' as const, approvals: reviewOf(0).approvals.length, anchor: null });
      const hunks = [
        ...(e.kind === 'create' ? [{ ...pseudo(e.content ?? '') }] : []),
        ...(e.kind === 'delete' ? [pseudo(`delete ${e.path}`)] : []),
        ...(e.kind === 'rename' ? [pseudo(`rename to ${e.newPath}`)] : []),
        ...e.hunks.map((h) => ({
          index: h.index, removed: h.removed, inserted: h.inserted, decision: reviewOf(h.index).decision,
          status: statuses.get(h.index) ?? 'intact', approvals: reviewOf(h.index).approvals.length,
          anchor: { start: Buffer.from(h.anchor.start).toString('base64'), end: Buffer.from(h.anchor.end).toString('base64') },
        })),
      ];
      out.push({ kind: e.kind, path: e.path, fileId: e.fileId, newPath: e.newPath, status: e.review.status, hunks });
    }
    return out;
  }

  /**
   * One decision. Accept-all is accept-hunk for every pending hunk (R9 = R7 each), skipping the
   * stale and conflicted ones, so one stale hunk never blocks or misplaces the others.
   * Returns how many hunks were applied and which were skipped as stale/conflict.
   */
  async decide(run: LiveAgentRun, who: AgentReviewer, policy: ApprovalPolicy, decision: ChangesetDecision): Promise<{ applied: number; skipped: string[] }> {
    if (run.live) throw new AppError('CONFLICT', 'The run is still working; stop it or wait for it to finish before reviewing.');
    if (!mayReview(policy, who.role)) {
      throw new AppError('FORBIDDEN', who.role === 'viewer' ? 'Viewers cannot accept or reject changes.' : 'Only the owner decides under this project\'s approval policy.');
    }
    const actor = { userId: who.userId, role: who.role };
    const entries = decision.path === undefined ? [...run.workspace.entries.values()] : [this.#entry(run, decision.path)];
    if (decision.type !== 'rejectAll' && decision.type !== 'rejectHunk') {
      const creates = entries.filter((e) => e.kind === 'create' && !isTerminal(e.review.status) && e.review.hunks[0]?.decision !== 'accepted').length;
      await this.#requireRoomFor(run.view.projectId, creates);
    }
    let applied = 0;
    const skipped: string[] = [];
    for (const entry of entries) {
      if (isTerminal(entry.review.status)) continue;
      const indices = 'hunk' in decision
        ? [decision.hunk]
        : reviewIndices(entry).filter((i) => entry.review.hunks[i]?.decision === 'pending');
      for (const hunk of indices) {
        const type = decision.type === 'acceptAll' ? 'acceptHunk' : decision.type === 'rejectAll' ? 'rejectHunk' : decision.type;
        const current = run.workspace.entries.get(entry.path)!;
        const result = transition(current.review, { type, hunk, actor } as SuggestionEvent, { policy });
        if (!result.ok) {
          if (decision.type === 'acceptAll' || decision.type === 'rejectAll') continue;
          throw new AppError(result.rule === 'X3' ? 'BAD_INPUT' : result.rule.startsWith('P') ? 'FORBIDDEN' : 'CONFLICT', `Refused: ${result.reason}.`);
        }
        if (result.accepted.includes(hunk)) {
          const problem = await this.#apply(run, current, hunk, who);
          if (problem) {
            if (decision.type === 'acceptAll') {
              skipped.push(`${current.path}#${hunk}: ${problem}`);
              continue;
            }
            throw new AppError('CONFLICT', problem);
          }
          applied++;
        }
        run.workspace.entries.set(current.path, { ...current, review: result.state });
      }
    }
    const what = !('hunk' in decision)
      ? `${decision.type === 'acceptAll' ? 'accepted' : 'rejected'} ${decision.path ?? 'all changes'}`
      : `${decision.type === 'rejectHunk' ? 'rejected' : decision.type === 'approve' ? 'approved' : 'accepted'} ${decision.path} change ${decision.hunk + 1}`;
    run.notice(`${who.name} ${what}${skipped.length > 0 ? ` (${skipped.length} stale, not applied)` : ''}.`, { id: who.userId, name: who.name });
    const all = [...run.workspace.entries.values()];
    if (all.length > 0 && all.every((e) => isTerminal(e.review.status))) {
      const anyAccepted = all.some((e) => e.review.hunks.some((h) => h.decision === 'accepted'));
      run.setStatus(anyAccepted ? 'applied' : 'rejected');
    }
    return { applied, skipped };
  }

  /**
   * Refuses, before anything is applied, an accept that would grow the project tree past its cap
   * (the server's own edits bypass the sync limit that refuses such tree updates from clients).
   */
  async #requireRoomFor(projectId: string, creates: number): Promise<void> {
    if (creates === 0) return;
    let size = 0;
    await this.#docs.editDocument(treeDocName(projectId), (doc) => {
      size = doc.getMap<TreeEntry>(TREE_MAP).size;
    });
    if (size + creates > this.#maxFiles) {
      throw new AppError('TOO_LARGE', `A project holds at most ${this.#maxFiles} files and folders: it has ${size}, and accepting would add ${creates} new file${creates === 1 ? '' : 's'}. Reject some of the new files, or delete files first.`);
    }
  }

  #entry(run: LiveAgentRun, path: string): ChangesetEntry {
    const entry = run.workspace.entries.get(path);
    if (!entry) throw new AppError('NOT_FOUND', `The changeset has no file "${path}".`);
    return entry;
  }

  /** Applies one accepted hunk; returns why it could not be applied, or null. */
  async #apply(run: LiveAgentRun, entry: ChangesetEntry, index: number, who: AgentReviewer): Promise<string | null> {
    run.origin ??= new AiEditOrigin(run.id, who.userId);
    const origin = run.origin;
    const projectId = run.view.projectId;
    let problem: string | null = null;
    const pseudo = index === 0 && entry.kind !== 'modify';
    if (!pseudo) {
      const hunk = entry.hunks.find((h) => h.index === index);
      if (!hunk || entry.fileId === null) return 'Unknown change.';
      const docName = fileDocName(projectId, entry.fileId);
      await this.#docs.editDocument(docName, (doc) => {
        run.undo.track(docName, doc, doc.getText(FILE_TEXT), origin);
        const r = applyChangesetHunk(doc, hunk, origin);
        if (!r.ok) problem = r.status === 'stale' ? `${entry.path}: someone edited these lines since the agent changed them (stale).` : `${entry.path}: these lines were deleted (conflict).`;
      }, { origin });
      return problem;
    }
    if (entry.kind === 'create') {
      const fileId = randomUUID();
      const fileDoc = fileDocName(projectId, fileId);
      const treeName = treeDocName(projectId);
      let taken = false;
      await this.#docs.editDocument(treeName, (doc) => {
        taken = [...doc.getMap<TreeEntry>(TREE_MAP).values()].some((e) => e?.path === entry.path);
      });
      if (taken) return `"${entry.path}" was created by someone else meanwhile.`;
      await this.#docs.editDocument(fileDoc, (doc) => {
        run.undo.track(fileDoc, doc, doc.getText(FILE_TEXT), origin);
        doc.getText(FILE_TEXT).insert(0, entry.content ?? '');
      }, { origin });
      await this.#docs.editDocument(treeName, (doc) => {
        const tree = doc.getMap<TreeEntry>(TREE_MAP);
        run.undo.track(treeName, doc, tree, origin);
        if ([...tree.values()].some((e) => e?.path === entry.path)) problem = `"${entry.path}" was created by someone else meanwhile.`;
        else if (tree.size >= this.#maxFiles) problem = `A project holds at most ${this.#maxFiles} files and folders: "${entry.path}" was not created.`;
        else tree.set(fileId, { path: entry.path, kind: 'file' });
      }, { origin });
      return problem;
    }
    const treeName = treeDocName(projectId);
    await this.#docs.editDocument(treeName, (doc) => {
      const tree = doc.getMap<TreeEntry>(TREE_MAP);
      const current = tree.get(entry.fileId!);
      if (!current || current.path !== entry.path) {
        problem = `"${entry.path}" was renamed or deleted by someone else meanwhile.`;
        return;
      }
      if (entry.kind === 'rename' && [...tree.values()].some((e) => e?.path === entry.newPath)) {
        problem = `"${entry.newPath}" exists now.`;
        return;
      }
      run.undo.track(treeName, doc, tree, origin);
      if (entry.kind === 'delete') tree.delete(entry.fileId!);
      else tree.set(entry.fileId!, { path: entry.newPath!, kind: 'file' });
    }, { origin });
    return problem;
  }

  /** Reverts every accepted change of the run, for everyone. */
  async undo(run: LiveAgentRun, who: AgentReviewer, policy: ApprovalPolicy): Promise<void> {
    if (!mayReview(policy, who.role)) throw new AppError('FORBIDDEN', 'You cannot undo changes under this project\'s approval policy.');
    if (run.undo.empty || run.undoneBy !== null) throw new AppError('CONFLICT', 'There is nothing of this run to undo (on this server).');
    const lost = !(await run.undo.undo(this.#docs));
    run.undoneBy = { id: who.userId, name: who.name } satisfies AgentUserRef;
    run.notice(`${who.name} undid the accepted changes${lost ? ' (some files had been closed on the server and could not be reverted)' : ''}.`, run.undoneBy);
  }
}
