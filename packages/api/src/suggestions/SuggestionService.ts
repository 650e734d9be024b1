import { AppError, FILE_TEXT, fileDocName, languageForPath } from '@tandem/protocol';
import type { SyncExtension } from '@tandem/collab';
import type { InferenceProvider } from '@tandem/inference';
import {
  AiEditOrigin, anyEditor, applyChangesetHunk, computeHunks, createAnchor, hunkStatus, mayReview, resolveAnchor, transition,
} from '@tandem/review';
import { projectChannel, type EventHub } from '../EventHub.ts';
import { isForbiddenPath } from '../agent/agentPolicy.ts';
import { AiEditUndo } from './AiEditUndo.ts';
import { ApprovalPolicies } from './ApprovalPolicies.ts';
import { decisionEvent, decisionEvents, refusalError, statusLabel } from './decisions.ts';
import { editRequest, finalCode } from './editPrompt.ts';
import { KeyedSerialQueue } from './KeyedSerialQueue.ts';
import { OpenSuggestions } from './OpenSuggestions.ts';
import { SuggestionAnchoring } from './SuggestionAnchoring.ts';
import { SuggestionGenerator, type GenerationEnd } from './SuggestionGenerator.ts';
import { acceptedIndices, isOpen, newAttempt, newSuggestion, type SuggestionRecord } from './SuggestionRecord.ts';
import { SuggestionStore, attemptDetail, type NewReviewEvent } from './SuggestionStore.ts';
import { SuggestionViews, userIdsOf } from './SuggestionViews.ts';
import { SUGGESTION_EVENT, type ActivityEntry, type SuggestionView } from './suggestionEvents.ts';
import type { DecisionAction, EditRequest, ReviewActor, SuggestionDocuments, SuggestionServiceOptions } from './serviceTypes.ts';

export type { SuggestionDocuments, SuggestionServiceOptions, ReviewActor, TargetRange, EditRequest, DecisionAction } from './serviceTypes.ts';

const UNDO_UNAVAILABLE = 'This AI edit can no longer be undone automatically: the file was closed on the server since it was applied (everyone left it, or the server restarted). Edit the code by hand instead.';

/**
 * Shared AI edits on the server: a suggestion is requested for a range of a file, streams to
 * every participant of the project (EventHub project channel, coalesced frames), is anchored to
 * its range with Yjs relative positions, reviewed per hunk under the project's approval policy,
 * applied as one Yjs transaction whose origin names the AI edit and the person who accepted it,
 * and recorded (Suggestion + ReviewEvent rows).
 *
 * This class orchestrates; the pieces are `SuggestionGenerator` (streaming), `SuggestionAnchoring`
 * (where a suggestion sits, batch checks), `SuggestionViews` (what participants see), `AiEditUndo`
 * and `ApprovalPolicies` (shared with agent changesets) and `SuggestionStore` (rows). Open
 * suggestions live in memory (the review state machine from @tandem/review is the only thing
 * that changes their status) and are written through to the database after every change, so they
 * survive a restart. Every change to one suggestion runs in its own serial queue.
 */
export class SuggestionService {
  readonly #store: SuggestionStore;
  readonly #hub: EventHub;
  readonly #documents: SuggestionDocuments;
  readonly #logError: (message: string, error: unknown) => void;
  readonly #queue = new KeyedSerialQueue();
  readonly #open = new OpenSuggestions();
  readonly #generator: SuggestionGenerator;
  readonly #anchoring: SuggestionAnchoring;
  readonly #views: SuggestionViews;
  readonly #policies: ApprovalPolicies;
  readonly #undo = new Map<string, AiEditUndo>();
  #closed = false;

  constructor(options: SuggestionServiceOptions) {
    this.#store = new SuggestionStore(options.prisma);
    this.#hub = options.hub;
    this.#documents = options.documents;
    this.#logError = options.logError ?? ((m, e) => console.error(m, e));
    this.#views = new SuggestionViews(this.#store);
    this.#policies = new ApprovalPolicies(options.prisma, this.#logError);
    this.#generator = new SuggestionGenerator(this.#hub, (end) => this.#queue.run(end.record.id, () => this.#generated(end)), this.#logError);
    this.#anchoring = new SuggestionAnchoring({
      documents: this.#documents,
      open: this.#open,
      anchorWaitMs: options.anchorWaitMs ?? 3000,
      logError: this.#logError,
      onLost: (record) => {
        this.#queue.run(record.id, () => this.#recheck(record)).catch((e) => this.#logError(`[suggestions] anchor check of ${record.id} failed`, e));
      },
    });
    this.syncExtension = this.#anchoring.syncExtension;
  }

  /** Register with the SyncServer: anchors are re-checked when a document loads or changes. */
  readonly syncExtension: SyncExtension;

  /**
   * Loads the suggestions that were open when the server stopped. Ready and stale ones are
   * reviewable again (their anchors are stored relative positions, re-resolved on use); ones that
   * were still generating cannot resume and are marked failed. With several nodes each project
   * is served by one node, which calls this with the project when it takes the project over.
   */
  async start(projectId?: string): Promise<void> {
    const records = await this.#store.loadOpen((id, error) => this.#logError(`[suggestions] stored suggestion ${id} is unreadable; skipped`, error), projectId);
    await this.#views.ensureNames(records.flatMap(userIdsOf));
    for (const record of records) {
      if (record.state.status === 'requested' || record.state.status === 'streaming') {
        const failed = transition(record.state, { type: 'fail', error: 'The server restarted while this suggestion was being generated. Ask again.' }, { policy: anyEditor });
        if (failed.ok) record.state = failed.state;
        await this.#store.save(record);
        await this.#store.addEvents([{ suggestionId: record.id, kind: 'failed', userId: null, detail: { message: record.state.error } }]);
        continue;
      }
      this.#open.track(record);
      // Stored before hunks had their own anchors: they cannot be placed any more; regenerate instead.
      if (record.state.status === 'ready' && record.anchored.length !== record.hunks.length) await this.#anchorChanged(record, 'stale');
    }
  }

  /** Starts an AI edit: anchors the range, records it, tells everyone, and streams the answer. */
  async request(actor: ReviewActor, input: EditRequest): Promise<SuggestionView> {
    this.#ensureRunning();
    this.#remember(actor);
    const path = await this.#anchoring.filePath(input.projectId, input.fileId);
    if (input.forbiddenPaths && isForbiddenPath(input.forbiddenPaths, path)) {
      throw new AppError('FORBIDDEN', 'This file is off limits to the AI by the project\'s policy.');
    }
    const target = await this.#anchoring.resolveTarget(fileDocName(input.projectId, input.fileId), input.range);
    const chat = editRequest({
      path, language: languageForPath(path), instruction: input.instruction, before: target.before, selected: target.baseText, after: target.after,
    });
    const record = newSuggestion(actor.userId, input, path, target);
    // The provider request goes out first (the database write is not on the first token's path);
    // its answer waits in the generator until the suggestion is stored and everyone has it.
    const announced = (async () => {
      await this.#store.create(record);
      this.#open.track(record);
      await this.#publish(record);
      // The requester's answer is the suggestion as announced (before any of the answer is read).
      return this.#views.view(record, await this.#policies.current(record.projectId));
    })();
    this.#generator.start(record, input.provider, chat, announced);
    return announced;
  }

  /** Stops a streaming suggestion (aborting the provider request) or discards a stale one. */
  cancel(actor: ReviewActor, projectId: string, id: string): Promise<SuggestionView> {
    this.#remember(actor);
    return this.#queue.run(id, async () => {
      const record = await this.#openRecord(projectId, id);
      const policy = await this.#policies.load(projectId);
      if (actor.role === 'viewer') throw new AppError('FORBIDDEN', 'Viewers cannot cancel AI edits.');
      if (actor.userId !== record.requesterId && !mayReview(policy, actor.role)) {
        throw new AppError('FORBIDDEN', 'Only the person who asked, or someone who may accept AI edits here, can cancel it.');
      }
      if (record.state.status === 'ready') throw new AppError('CONFLICT', 'This suggestion has finished generating: reject it instead.');
      const result = transition(record.state, { type: 'cancel' }, { policy });
      if (!result.ok) throw refusalError(result, record.state);
      record.state = result.state;
      this.#generator.abort(id);
      await this.#commit(record, [{ suggestionId: id, kind: 'cancelled', userId: actor.userId }]);
      return this.#views.view(record, policy);
    });
  }

  /** A review decision (accept/reject one hunk or all, or an approval vote), enforced by the policy. */
  decide(actor: ReviewActor, projectId: string, id: string, action: DecisionAction): Promise<SuggestionView> {
    this.#remember(actor);
    return this.#queue.run(id, async () => {
      const record = await this.#openRecord(projectId, id);
      const policy = await this.#policies.load(projectId);
      const result = transition(record.state, decisionEvent(action, actor), { policy });
      if (!result.ok) throw refusalError(result, record.state);
      if (result.accepted.length > 0) {
        const edited = await this.#apply(record, result.accepted, actor);
        if (edited.length > 0) {
          await this.#hunksEdited(record, edited);
          throw new AppError('CONFLICT', `Someone edited the lines of ${edited.length === 1 ? `change ${edited[0]! + 1}` : `changes ${edited.map((i) => i + 1).join(', ')}`} after the suggestion was made, so nothing was applied. Those are stale now; the other changes can still be accepted.`);
        }
      }
      const events = decisionEvents(record.id, record.state, result, actor, action);
      const at = new Date().toISOString();
      for (const index of [...result.accepted, ...result.rejected]) record.decidedAt[index] = at;
      record.state = result.state;
      await this.#commit(record, events);
      return this.#views.view(record, policy);
    });
  }

  /** Starts a stale suggestion over on the current code of its range (R14). */
  regenerate(actor: ReviewActor, projectId: string, id: string, provider: InferenceProvider): Promise<SuggestionView> {
    this.#ensureRunning();
    this.#remember(actor);
    return this.#queue.run(id, async () => {
      const record = await this.#openRecord(projectId, id);
      if (record.state.status !== 'stale') throw new AppError('CONFLICT', 'Only a stale suggestion can be regenerated.');
      const target = await this.#anchoring.retarget(record);
      if (target === null) {
        await this.#anchorChanged(record, 'conflict');
        throw new AppError('CONFLICT', 'The code this suggestion was for has been deleted.');
      }
      const chat = editRequest({
        path: record.path, language: languageForPath(record.path), instruction: record.instruction, before: target.before, selected: target.baseText, after: target.after,
      });
      const result = transition(record.state, { type: 'regenerate' }, { policy: anyEditor });
      if (!result.ok) throw refusalError(result, record.state);
      newAttempt(record, result.state, target, provider);
      await this.#commit(record, [{ suggestionId: id, kind: 'regenerated', userId: actor.userId, detail: { ...attemptDetail(record) } }]);
      this.#generator.start(record, provider, chat);
      return this.#views.view(record, await this.#policies.current(projectId));
    });
  }

  /**
   * Reverts exactly the applied hunks of a suggestion, for everyone, as one transaction — other
   * people's edits before and after stay. Possible while the file stays loaded on the server.
   */
  undo(actor: ReviewActor, projectId: string, id: string): Promise<SuggestionView> {
    this.#remember(actor);
    return this.#queue.run(id, async () => {
      const record = this.#open.get(id) ?? (await this.#store.find(projectId, id));
      if (!record || record.projectId !== projectId) throw new AppError('NOT_FOUND', 'Suggestion not found.');
      const policy = await this.#policies.load(projectId);
      if (!mayReview(policy, actor.role)) {
        throw new AppError('FORBIDDEN', actor.role === 'viewer' ? 'Viewers cannot undo AI edits.' : 'Only the project owner can undo AI edits in this project.');
      }
      if (acceptedIndices(record.state).length === 0) throw new AppError('CONFLICT', 'Nothing of this suggestion was applied.');
      if (record.undone) throw new AppError('CONFLICT', 'This AI edit was already undone.');
      const undo = this.#undo.get(id);
      if (!undo?.complete) throw new AppError('CONFLICT', UNDO_UNAVAILABLE);
      this.#undo.delete(id);
      if (!(await undo.undo(this.#documents, { id: actor.userId, name: actor.name }))) throw new AppError('CONFLICT', UNDO_UNAVAILABLE);
      record.undone = { userId: actor.userId, at: new Date().toISOString() };
      await this.#commit(record, [{ suggestionId: id, kind: 'undone', userId: actor.userId }]);
      return this.#views.view(record, policy);
    });
  }

  /** Open suggestions of a project (optionally one file), oldest first. */
  async list(projectId: string, fileId?: string): Promise<SuggestionView[]> {
    const policy = await this.#policies.current(projectId);
    const records = [...this.#open.values()]
      .filter((r) => r.projectId === projectId && (fileId === undefined || r.fileId === fileId))
      .sort((a, b) => a.createdAt.getTime() - b.createdAt.getTime());
    await this.#views.ensureNames(records.flatMap(userIdsOf));
    return records.map((r) => this.#views.view(r, policy));
  }

  /** The record of a project's AI edits, newest first: who asked, which model, metrics, every decision. */
  async activity(projectId: string, limit: number, before: Date | null): Promise<Omit<ActivityEntry, 'providerLabel'>[]> {
    return this.#views.activity(await this.#store.activity(projectId, limit, before), (id) => this.#open.get(id));
  }

  /** The project's policy changed: open suggestions are re-sent with it. */
  async policyChanged(projectId: string): Promise<void> {
    this.#policies.forget(projectId);
    for (const record of this.#open.values()) if (record.projectId === projectId) await this.#publish(record);
  }

  /** A project was deleted (its rows went with it): stop its generations, drop its state. */
  forgetProject(projectId: string): void {
    for (const record of [...this.#open.values()]) {
      if (record.projectId !== projectId) continue;
      this.#generator.abort(record.id);
      this.#open.retire(record);
      this.#undo.get(record.id)?.destroy();
      this.#undo.delete(record.id);
    }
    this.#policies.forget(projectId);
  }

  /** Aborts every generation and waits until each has recorded its end. */
  async close(): Promise<void> {
    this.#closed = true;
    this.#anchoring.close();
    await this.#generator.close();
  }

  /** Streams running now (tests assert it drops back to zero). */
  get generating(): number {
    return this.#generator.size;
  }

  /** The stream ended: ready with its final hunks (R4), or failed (R5); later attempts and cancelled/stale ones only keep metrics. */
  async #generated({ record, attempt, failure, metrics, aborted }: GenerationEnd): Promise<void> {
    if (record.state.attempt !== attempt) return;
    if (metrics) record.metrics = metrics;
    if (!this.#open.isCurrent(record)) {
      // Cancelled (or its project deleted) while generating: the record still gets its metrics.
      await this.#store.save(record);
      return;
    }
    const events: NewReviewEvent[] = [];
    const live = record.state.status === 'requested' || record.state.status === 'streaming';
    if (live && (failure !== null || aborted)) {
      const message = failure ?? 'The server stopped while this suggestion was being generated. Ask again.';
      const result = transition(record.state, { type: 'fail', error: message }, { policy: anyEditor });
      if (result.ok) record.state = result.state;
      events.push({ suggestionId: record.id, kind: 'failed', userId: null, detail: { message } });
    } else if (live) {
      record.proposed = finalCode(record.proposed, record.baseText);
      const hunks = computeHunks(record.baseText, record.proposed);
      const anchored = await this.#anchoring.anchorHunks(record, hunks);
      if (anchored === null) {
        await this.#recheck(record);
        return;
      }
      const result = transition(record.state, { type: 'complete', hunkCount: hunks.length }, { policy: anyEditor });
      if (result.ok) {
        Object.assign(record, { state: result.state, hunks, anchored, decidedAt: hunks.map(() => null) });
        events.push({ suggestionId: record.id, kind: 'completed', userId: null, detail: { ...record.metrics, hunks: hunks.length } });
      }
    }
    await this.#commit(record, events);
  }

  /** Confirms a lost anchor in the suggestion's queue (an accept may have moved it meanwhile), then records it. */
  async #recheck(record: SuggestionRecord): Promise<void> {
    if (!this.#open.isCurrent(record)) return;
    const verdict = await this.#anchoring.check(record);
    if (verdict.range !== 'intact') await this.#anchorChanged(record, verdict.range);
    else if (verdict.staleHunks.length > 0) await this.#hunksEdited(record, verdict.staleHunks);
  }

  /** Someone edited these pending hunks' lines (R15): only they are stale; the others stay acceptable. */
  async #hunksEdited(record: SuggestionRecord, indices: readonly number[]): Promise<void> {
    const events: NewReviewEvent[] = [];
    for (const hunk of indices) {
      const result = transition(record.state, { type: 'hunkEdited', hunk }, { policy: anyEditor });
      if (!result.ok) continue;
      record.state = result.state;
      events.push({ suggestionId: record.id, kind: 'stale', userId: null, hunkIndex: hunk });
    }
    if (events.length > 0) await this.#commit(record, events);
  }

  async #anchorChanged(record: SuggestionRecord, verdict: 'stale' | 'conflict'): Promise<void> {
    const result = transition(record.state, { type: verdict === 'stale' ? 'anchorEdited' : 'anchorDeleted' }, { policy: anyEditor });
    if (!result.ok) return;
    record.state = result.state;
    // Nothing generated from here on could be applied: stop paying for it.
    this.#generator.abort(record.id);
    await this.#commit(record, [{ suggestionId: record.id, kind: verdict, userId: null }]);
  }

  /**
   * THE point where accepted hunks reach the shared document: one transaction whose origin is an
   * AiEditOrigin (the suggestion and who accepted), recorded for undo. Each hunk is applied on its
   * own anchor; if any of them was edited meanwhile nothing is applied and those are returned.
   */
  async #apply(record: SuggestionRecord, indices: readonly number[], actor: ReviewActor): Promise<number[]> {
    const origin = new AiEditOrigin(record.id, actor.userId);
    const documentName = fileDocName(record.projectId, record.fileId);
    const hunks = indices.map((i) => record.anchored[i]!);
    let edited: number[] = [];
    let failure: unknown = null;
    await this.#documents.editDocument(documentName, (doc) => {
      try {
        edited = hunks.flatMap((h) => (hunkStatus(doc, h) === 'intact' ? [] : [h.index]));
        if (edited.length > 0) return;
        const ytext = doc.getText(FILE_TEXT);
        // The range grows or shrinks by what the hunks change inside it; re-anchored over that, it
        // still covers text the AI put at its very edges (for a regenerate, and the header's place).
        const range = resolveAnchor(doc, record.anchor);
        this.#undoOf(record.id).track(documentName, doc, ytext, origin);
        doc.transact(() => {
          for (const h of hunks) {
            const applied = applyChangesetHunk(doc, h, origin);
            if (!applied.ok) throw new Error(`hunk ${h.index} was checked intact but did not apply: ${applied.reason}`);
          }
          if (range) record.anchor = createAnchor(ytext, range.start, range.end + hunks.reduce((n, h) => n + h.inserted.length - h.removed.length, 0));
        }, origin);
      } catch (error) {
        failure = error;
      }
    }, { user: { id: actor.userId, name: actor.name }, origin });
    if (failure) throw failure;
    return edited;
  }

  #undoOf(id: string): AiEditUndo {
    let undo = this.#undo.get(id);
    if (!undo) this.#undo.set(id, (undo = new AiEditUndo()));
    return undo;
  }

  #ensureRunning(): void {
    if (this.#closed) throw new AppError('UNAVAILABLE', 'The server is shutting down.');
  }

  #remember(actor: ReviewActor): void {
    this.#views.remember(actor.userId, actor.name);
  }

  async #openRecord(projectId: string, id: string): Promise<SuggestionRecord> {
    const open = this.#open.get(id);
    if (open && open.projectId === projectId) return open;
    const stored = await this.#store.find(projectId, id);
    if (!stored) throw new AppError('NOT_FOUND', 'Suggestion not found.');
    throw new AppError('CONFLICT', `This suggestion is already ${statusLabel(stored.state.status)}.`);
  }

  /** Persists, records events, tells everyone; a suggestion that reached a final status leaves memory. */
  async #commit(record: SuggestionRecord, events: NewReviewEvent[]): Promise<void> {
    record.updatedAt = new Date();
    await this.#store.save(record);
    await this.#store.addEvents(events);
    await this.#publish(record);
    if (!isOpen(record) && this.#open.isCurrent(record)) this.#open.retire(record);
  }

  async #publish(record: SuggestionRecord): Promise<void> {
    const policy = await this.#policies.current(record.projectId);
    await this.#views.ensureNames(userIdsOf(record));
    this.#hub.publish(projectChannel(record.projectId), SUGGESTION_EVENT, this.#views.view(record, policy));
  }
}
