import { randomUUID } from 'node:crypto';
import type * as Y from 'yjs';
import {
  AppError, FILE_TEXT, TREE_MAP, fileDocName, isAppError, languageForPath, treeDocName, type Role, type TreeEntry,
} from '@tandem/protocol';
import type { SyncExtension, SyncUser } from '@tandem/collab';
import { meter, type ChatRequest, type InferenceProvider, type MeteredStream, type StreamMetrics } from '@tandem/inference';
import {
  AiEditOrigin, anyEditor, applyHunks, checkAnchor, computeHunks, createAiEditUndoManager, createAnchor,
  mayReview, parseApprovalPolicy, reanchor, resolveAnchor, transition,
  type Anchor, type AnchorStatus, type ApplyHunksResult, type ApprovalPolicy, type SuggestionEvent, type SuggestionState,
  type TransitionResult,
} from '@tandem/review';
import { projectChannel, type EventHub } from '../EventHub.ts';
import { isForbiddenPath } from '../agent/agentPolicy.ts';
import { DeltaCoalescer } from '../ai/DeltaCoalescer.ts';
import { FenceStripper } from '../ai/FenceStripper.ts';
import { compactDisplay, expandDisplay, pendingDisplay } from './displayHunks.ts';
import { editRequest, finalCode } from './editPrompt.ts';
import { KeyedSerialQueue } from './KeyedSerialQueue.ts';
import { acceptedIndices, emptyMetrics, isOpen, type SuggestionRecord } from './SuggestionRecord.ts';
import { SuggestionStore, attemptDetail, type NewReviewEvent } from './SuggestionStore.ts';
import {
  DISPLAY_INTERVAL_MS, FRAME_EVENT, SUGGESTION_EVENT, type ActivityEntry, type CompactDisplayHunk, type ApprovalPolicyView, type DisplayHunk, type HunkView,
  type LiveMetrics, type SuggestionFrame, type SuggestionView, type UserRef,
} from './suggestionEvents.ts';
import type { PrismaClient } from '@tandem/db';

/** The documents a suggestion reads and edits: the SyncServer's live copies (structural, so tests and the app pass it). */
export interface SuggestionDocuments {
  editDocument(documentName: string, edit: (doc: Y.Doc) => void, options?: { user?: SyncUser; origin?: object }): Promise<void>;
  readDocument<T>(documentName: string, read: (doc: Y.Doc) => T): Promise<T>;
}

export interface SuggestionServiceOptions {
  prisma: PrismaClient;
  hub: EventHub;
  documents: SuggestionDocuments;
  /** How long a request waits for the requester's own latest edits to reach the server. Default 3 s. */
  anchorWaitMs?: number;
  logError?: (message: string, error: unknown) => void;
}

/** Who acts: the signed-in user and their role in the project (the router checks membership). */
export interface ReviewActor {
  userId: string;
  name: string;
  role: Role;
}

/** The range to rewrite: offsets into the server's current text, or Yjs relative positions from the client's copy. */
export type TargetRange =
  | { kind: 'offsets'; start: number; end: number }
  | { kind: 'anchor'; start: Uint8Array; end: Uint8Array };

export interface EditRequest {
  projectId: string;
  fileId: string;
  instruction: string;
  range: TargetRange;
  provider: InferenceProvider;
  /** The project's forbidden path globs (agent policy): AI edits of such files are refused. */
  forbiddenPaths?: readonly string[];
}

export type DecisionAction =
  | { type: 'acceptHunk' | 'rejectHunk' | 'approve'; hunk: number }
  | { type: 'acceptAll' | 'rejectAll' };

interface Generation {
  attempt: number;
  controller: AbortController;
  done: Promise<void>;
  /** When the display diff was last computed, and for how much of the proposal. */
  displayedAt: number;
  displayLength: number;
  /** Sends the diff of text that arrived since, if no later frame does (a stream may pause). */
  displayRefresh: NodeJS.Timeout | null;
}

interface UndoEntry {
  doc: Y.Doc;
  manager: Y.UndoManager;
  /** Hunks whose application this manager recorded. */
  hunks: Set<number>;
}

interface Target {
  anchor: Anchor;
  baseText: string;
  before: string;
  after: string;
  startLine: number;
  endLine: number;
}

const UNDO_UNAVAILABLE = 'This AI edit can no longer be undone automatically: the file was closed on the server since it was applied (everyone left it, or the server restarted). Edit the code by hand instead.';

/**
 * Shared AI edits on the server: a suggestion is requested for a range of a file, streams to
 * every participant of the project (EventHub project channel, coalesced frames), is anchored to
 * its range with Yjs relative positions, reviewed per hunk under the project's approval policy,
 * applied as one Yjs transaction whose origin names the AI edit and the person who accepted it,
 * and recorded (Suggestion + ReviewEvent rows).
 *
 * Open suggestions live in memory (the review state machine from @tandem/review is the only
 * thing that changes their status) and are written through to the database after every change,
 * so they survive a restart. Every change to one suggestion runs in its own serial queue.
 * Anchors are checked once per batch of document changes (SyncExtension onChange), not per
 * keystroke per suggestion.
 */
export class SuggestionService {
  readonly #store: SuggestionStore;
  readonly #hub: EventHub;
  readonly #documents: SuggestionDocuments;
  readonly #anchorWaitMs: number;
  readonly #logError: (message: string, error: unknown) => void;
  readonly #queue = new KeyedSerialQueue();
  readonly #open = new Map<string, SuggestionRecord>();
  readonly #byDocument = new Map<string, Set<string>>();
  readonly #generations = new Map<string, Generation>();
  readonly #undo = new Map<string, UndoEntry>();
  readonly #names = new Map<string, string>();
  readonly #policies = new Map<string, ApprovalPolicy>();
  #dirtyDocuments = new Map<string, Y.Doc>();
  #checkScheduled: NodeJS.Immediate | null = null;
  #closed = false;

  constructor(options: SuggestionServiceOptions) {
    this.#store = new SuggestionStore(options.prisma);
    this.#hub = options.hub;
    this.#documents = options.documents;
    this.#anchorWaitMs = options.anchorWaitMs ?? 3000;
    this.#logError = options.logError ?? ((m, e) => console.error(m, e));
  }

  /** Register with the SyncServer: anchors are re-checked when a document loads or changes. */
  readonly syncExtension: SyncExtension = {
    onLoadDocument: ({ documentName, document }) => this.#scheduleCheck(documentName, document),
    onChange: ({ documentName, document }) => this.#scheduleCheck(documentName, document),
  };

  /**
   * Loads the suggestions that were open when the server stopped. Ready and stale ones are
   * reviewable again (their anchors are stored relative positions, re-resolved on use); ones that
   * were still generating cannot resume and are marked failed. With several nodes each project
   * is served by one node, which calls this with the project when it takes the project over.
   */
  async start(projectId?: string): Promise<void> {
    const records = await this.#store.loadOpen((id, error) => this.#logError(`[suggestions] stored suggestion ${id} is unreadable; skipped`, error), projectId);
    for (const [id, name] of await this.#store.userNames(records.flatMap(userIdsOf))) this.#names.set(id, name);
    for (const record of records) {
      if (record.state.status === 'requested' || record.state.status === 'streaming') {
        const failed = transition(record.state, { type: 'fail', error: 'The server restarted while this suggestion was being generated. Ask again.' }, { policy: anyEditor });
        if (failed.ok) record.state = failed.state;
        await this.#store.save(record);
        await this.#store.addEvents([{ suggestionId: record.id, kind: 'failed', userId: null, detail: { message: record.state.error } }]);
        continue;
      }
      this.#track(record);
    }
  }

  /** Starts an AI edit: anchors the range, records it, tells everyone, and streams the answer. */
  async request(actor: ReviewActor, input: EditRequest): Promise<SuggestionView> {
    this.#ensureRunning();
    this.#remember(actor);
    const path = await this.#filePath(input.projectId, input.fileId);
    if (input.forbiddenPaths && isForbiddenPath(input.forbiddenPaths, path)) {
      throw new AppError('FORBIDDEN', 'This file is off limits to the AI by the project\'s policy.');
    }
    const documentName = fileDocName(input.projectId, input.fileId);
    const target = await this.#resolveTarget(documentName, input.range);
    const chat = editRequest({
      path, language: languageForPath(path), instruction: input.instruction, before: target.before, selected: target.baseText, after: target.after,
    });
    const now = new Date();
    const record: SuggestionRecord = {
      id: randomUUID(),
      projectId: input.projectId,
      fileId: input.fileId,
      requesterId: actor.userId,
      instruction: input.instruction,
      createdAt: now,
      updatedAt: now,
      path,
      startLine: target.startLine,
      endLine: target.endLine,
      providerId: input.provider.id,
      providerLabel: input.provider.label,
      model: input.provider.model,
      state: { status: 'requested', attempt: 1, hunks: [], error: null },
      originalBase: target.baseText,
      hunks: [],
      decidedAt: [],
      anchor: target.anchor,
      baseText: target.baseText,
      unapplied: [],
      proposed: '',
      metrics: emptyMetrics(),
      undone: null,
    };
    await this.#store.create(record);
    this.#track(record);
    await this.#publish(record);
    this.#startGeneration(record, input.provider, chat);
    return this.#view(record, await this.#policyOf(record.projectId));
  }

  /** Stops a streaming suggestion (aborting the provider request) or discards a stale one. */
  cancel(actor: ReviewActor, projectId: string, id: string): Promise<SuggestionView> {
    this.#remember(actor);
    return this.#queue.run(id, async () => {
      const record = await this.#openRecord(projectId, id);
      const policy = await this.#loadPolicy(projectId);
      if (actor.role === 'viewer') throw new AppError('FORBIDDEN', 'Viewers cannot cancel AI edits.');
      if (actor.userId !== record.requesterId && !mayReview(policy, actor.role)) {
        throw new AppError('FORBIDDEN', 'Only the person who asked, or someone who may accept AI edits here, can cancel it.');
      }
      if (record.state.status === 'ready') throw new AppError('CONFLICT', 'This suggestion has finished generating: reject it instead.');
      const result = transition(record.state, { type: 'cancel' }, { policy });
      if (!result.ok) throw refusalError(result, record.state);
      record.state = result.state;
      this.#generations.get(id)?.controller.abort();
      await this.#commit(record, [{ suggestionId: id, kind: 'cancelled', userId: actor.userId }]);
      return this.#view(record, policy);
    });
  }

  /** A review decision (accept/reject one hunk or all, or an approval vote), enforced by the policy. */
  decide(actor: ReviewActor, projectId: string, id: string, action: DecisionAction): Promise<SuggestionView> {
    this.#remember(actor);
    return this.#queue.run(id, async () => {
      const record = await this.#openRecord(projectId, id);
      const policy = await this.#loadPolicy(projectId);
      const event = decisionEvent(action, actor);
      const result = transition(record.state, event, { policy });
      if (!result.ok) throw refusalError(result, record.state);
      if (result.accepted.length > 0) {
        const applied = await this.#apply(record, result.accepted, actor);
        if (!applied.ok) {
          await this.#anchorChanged(record, applied.status);
          throw new AppError('CONFLICT', applied.status === 'stale'
            ? 'Someone edited this code after the suggestion was made, so it is stale now: regenerate it on the current code.'
            : 'The code this suggestion was for has been deleted.');
        }
      }
      const events = decisionEvents(record.id, record.state, result, actor, action);
      const at = new Date().toISOString();
      for (const index of [...result.accepted, ...result.rejected]) record.decidedAt[index] = at;
      record.state = result.state;
      await this.#commit(record, events);
      return this.#view(record, policy);
    });
  }

  /** Starts a stale suggestion over on the current code of its range (R14). */
  regenerate(actor: ReviewActor, projectId: string, id: string, provider: InferenceProvider): Promise<SuggestionView> {
    this.#ensureRunning();
    this.#remember(actor);
    return this.#queue.run(id, async () => {
      const record = await this.#openRecord(projectId, id);
      if (record.state.status !== 'stale') throw new AppError('CONFLICT', 'Only a stale suggestion can be regenerated.');
      const documentName = fileDocName(projectId, record.fileId);
      let target = null as Target | null;
      await this.#documents.editDocument(documentName, (doc) => {
        const next = reanchor(doc, record.anchor);
        target = next ? targetAround(doc.getText(FILE_TEXT).toString(), next.anchor, doc) : null;
      });
      if (target === null) {
        await this.#anchorChanged(record, 'conflict');
        throw new AppError('CONFLICT', 'The code this suggestion was for has been deleted.');
      }
      const t = target;
      const chat = editRequest({
        path: record.path, language: languageForPath(record.path), instruction: record.instruction, before: t.before, selected: t.baseText, after: t.after,
      });
      const result = transition(record.state, { type: 'regenerate' }, { policy: anyEditor });
      if (!result.ok) throw refusalError(result, record.state);
      Object.assign(record, {
        state: result.state, anchor: t.anchor, originalBase: t.baseText, baseText: t.baseText, hunks: [], unapplied: [], decidedAt: [],
        proposed: '', metrics: emptyMetrics(), startLine: t.startLine, endLine: t.endLine,
        providerId: provider.id, providerLabel: provider.label, model: provider.model,
      } satisfies Partial<SuggestionRecord>);
      await this.#commit(record, [{ suggestionId: id, kind: 'regenerated', userId: actor.userId, detail: { ...attemptDetail(record) } }]);
      this.#startGeneration(record, provider, chat);
      return this.#view(record, await this.#policyOf(projectId));
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
      const policy = await this.#loadPolicy(projectId);
      if (!mayReview(policy, actor.role)) {
        throw new AppError('FORBIDDEN', actor.role === 'viewer' ? 'Viewers cannot undo AI edits.' : 'Only the project owner can undo AI edits in this project.');
      }
      const accepted = acceptedIndices(record.state);
      if (accepted.length === 0) throw new AppError('CONFLICT', 'Nothing of this suggestion was applied.');
      if (record.undone) throw new AppError('CONFLICT', 'This AI edit was already undone.');
      const entry = this.#undo.get(id);
      if (!entry || !accepted.every((i) => entry.hunks.has(i))) throw new AppError('CONFLICT', UNDO_UNAVAILABLE);
      let undone = false as boolean;
      await this.#documents.editDocument(fileDocName(projectId, record.fileId), (doc) => {
        if (entry.doc !== doc) return;
        while (entry.manager.canUndo()) entry.manager.undo();
        undone = true;
      }, { user: { id: actor.userId, name: actor.name } });
      this.#dropUndo(id);
      if (!undone) throw new AppError('CONFLICT', UNDO_UNAVAILABLE);
      record.undone = { userId: actor.userId, at: new Date().toISOString() };
      await this.#commit(record, [{ suggestionId: id, kind: 'undone', userId: actor.userId }]);
      return this.#view(record, policy);
    });
  }

  /** Open suggestions of a project (optionally one file), oldest first. */
  async list(projectId: string, fileId?: string): Promise<SuggestionView[]> {
    const policy = await this.#policyOf(projectId);
    const records = [...this.#open.values()]
      .filter((r) => r.projectId === projectId && (fileId === undefined || r.fileId === fileId))
      .sort((a, b) => a.createdAt.getTime() - b.createdAt.getTime());
    await this.#ensureNames(records.flatMap(userIdsOf));
    return records.map((r) => this.#view(r, policy));
  }

  /** The record of a project's AI edits, newest first: who asked, which model, metrics, every decision. */
  async activity(projectId: string, limit: number, before: Date | null): Promise<Omit<ActivityEntry, 'providerLabel'>[]> {
    const rows = await this.#store.activity(projectId, limit, before);
    await this.#ensureNames(rows.flatMap(({ record, events }) => [...userIdsOf(record), ...events.flatMap((e) => (e.userId ? [e.userId] : []))]));
    return rows.map(({ record, events }) => {
      // An open suggestion in memory is fresher than its row (live metrics, proposal so far).
      const r = this.#open.get(record.id) ?? record;
      return {
        id: r.id, fileId: r.fileId, path: r.path, startLine: r.startLine, endLine: r.endLine,
        requester: this.#ref(r.requesterId), instruction: r.instruction, providerId: r.providerId, model: r.model,
        status: r.state.status, attempt: r.state.attempt, error: r.state.error,
        ttftMs: r.metrics.ttftMs, tokens: r.metrics.tokens, tokensPerSecond: r.metrics.tokensPerSecond,
        hunks: this.#hunkViews(r),
        events: events.map((e) => ({
          kind: e.kind, user: e.userId ? this.#ref(e.userId) : null, hunkIndex: e.hunkIndex, at: e.createdAt.toISOString(),
          detail: typeof (e.detail as { message?: unknown } | null)?.message === 'string' ? (e.detail as { message: string }).message : null,
        })),
        undone: r.undone ? { by: this.#ref(r.undone.userId), at: r.undone.at } : null,
        createdAt: r.createdAt.toISOString(),
      };
    });
  }

  /** The project's policy changed: open suggestions are re-sent with it. */
  async policyChanged(projectId: string): Promise<void> {
    this.#policies.delete(projectId);
    for (const record of this.#open.values()) if (record.projectId === projectId) await this.#publish(record);
  }

  /** A project was deleted (its rows went with it): stop its generations, drop its state. */
  forgetProject(projectId: string): void {
    for (const record of [...this.#open.values()]) {
      if (record.projectId !== projectId) continue;
      this.#generations.get(record.id)?.controller.abort();
      this.#retire(record);
      this.#dropUndo(record.id);
    }
    this.#policies.delete(projectId);
  }

  /** Aborts every generation and waits until each has recorded its end. */
  async close(): Promise<void> {
    this.#closed = true;
    if (this.#checkScheduled) clearImmediate(this.#checkScheduled);
    for (const generation of this.#generations.values()) generation.controller.abort();
    await Promise.all([...this.#generations.values()].map((g) => g.done));
  }

  /** Streams running now (tests assert it drops back to zero). */
  get generating(): number {
    return this.#generations.size;
  }

  // --- generation -------------------------------------------------------------------------

  #startGeneration(record: SuggestionRecord, provider: InferenceProvider, chat: ChatRequest): void {
    const attempt = record.state.attempt;
    const generation: Generation = {
      attempt, controller: new AbortController(), done: Promise.resolve(), displayedAt: -Infinity, displayLength: 0, displayRefresh: null,
    };
    this.#generations.set(record.id, generation);
    generation.done = this.#generate(record, generation, provider, chat)
      .catch((error) => this.#logError(`[suggestions] generation of ${record.id} failed unexpectedly`, error))
      .finally(() => {
        if (generation.displayRefresh) clearTimeout(generation.displayRefresh);
        if (this.#generations.get(record.id) === generation) this.#generations.delete(record.id);
      });
  }

  async #generate(record: SuggestionRecord, generation: Generation, provider: InferenceProvider, chat: ChatRequest): Promise<void> {
    const { attempt, controller: { signal } } = generation;
    const fences = new FenceStripper();
    let stream: MeteredStream | null = null;
    const frames = new DeltaCoalescer((text) => this.#frame(record, generation, text, stream!));
    let failure: unknown = null;
    try {
      stream = meter(provider.generate(chat, signal));
      for await (const chunk of stream) {
        if (chunk.type !== 'text' || signal.aborted) continue;
        this.#markStreaming(record, attempt);
        frames.push(fences.push(chunk.text));
        if (fences.closed) break; // the code is complete; breaking closes the upstream request
      }
      if (!fences.closed && !signal.aborted) frames.push(fences.end());
    } catch (error) {
      failure = error;
    }
    if (signal.aborted) frames.discard();
    else frames.flush();
    const metrics = stream ? liveMetrics(await stream.done) : null;
    if (generation.displayRefresh) clearTimeout(generation.displayRefresh);
    generation.displayRefresh = null;
    await this.#queue.run(record.id, () => this.#generated(record, attempt, failure, metrics, signal.aborted));
  }

  #markStreaming(record: SuggestionRecord, attempt: number): void {
    if (record.state.attempt !== attempt || record.state.status !== 'requested') return;
    const result = transition(record.state, { type: 'token' }, { policy: anyEditor }); // R2
    if (result.ok) record.state = result.state;
  }

  /**
   * One coalesced frame: the new code text at once, live metrics, and the display diff (offsets
   * only) when DISPLAY_INTERVAL_MS has passed since the last one.
   */
  #frame(record: SuggestionRecord, generation: Generation, text: string, stream: MeteredStream | null): void {
    if (record.state.attempt !== generation.attempt || record.state.status !== 'streaming') return;
    const offset = record.proposed.length;
    record.proposed += text;
    if (stream) record.metrics = liveMetrics(stream.metrics);
    let display: CompactDisplayHunk[] | null = null;
    const now = performance.now();
    if (now - generation.displayedAt >= DISPLAY_INTERVAL_MS) {
      display = compactDisplay(record.baseText, record.proposed, true);
      generation.displayedAt = now;
      generation.displayLength = record.proposed.length;
    } else {
      generation.displayRefresh ??= setTimeout(() => {
        generation.displayRefresh = null;
        if (generation.displayLength < record.proposed.length) this.#frame(record, generation, '', null);
      }, DISPLAY_INTERVAL_MS);
    }
    const frame: SuggestionFrame = {
      id: record.id, attempt: generation.attempt, offset, text, display, displayLength: generation.displayLength, metrics: record.metrics,
    };
    this.#hub.publish(projectChannel(record.projectId), FRAME_EVENT, frame);
  }

  /** The stream ended: ready with its final hunks (R4), or failed (R5); later attempts and cancelled/stale ones only keep metrics. */
  async #generated(record: SuggestionRecord, attempt: number, failure: unknown, metrics: LiveMetrics | null, aborted: boolean): Promise<void> {
    if (record.state.attempt !== attempt) return;
    if (metrics) record.metrics = metrics;
    if (!this.#isCurrent(record)) {
      // Cancelled (or its project deleted) while generating: the record still gets its metrics.
      await this.#store.save(record);
      return;
    }
    const events: NewReviewEvent[] = [];
    const live = record.state.status === 'requested' || record.state.status === 'streaming';
    if (live && (failure !== null || aborted)) {
      const message = failure !== null ? failureMessage(failure, (m, e) => this.#logError(m, e)) : 'The server stopped while this suggestion was being generated. Ask again.';
      const result = transition(record.state, { type: 'fail', error: message }, { policy: anyEditor });
      if (result.ok) record.state = result.state;
      events.push({ suggestionId: record.id, kind: 'failed', userId: null, detail: { message } });
    } else if (live) {
      record.proposed = finalCode(record.proposed, record.baseText);
      const hunks = computeHunks(record.baseText, record.proposed);
      const result = transition(record.state, { type: 'complete', hunkCount: hunks.length }, { policy: anyEditor });
      if (result.ok) {
        Object.assign(record, { state: result.state, hunks, unapplied: hunks, decidedAt: hunks.map(() => null) });
        events.push({ suggestionId: record.id, kind: 'completed', userId: null, detail: { ...record.metrics, hunks: hunks.length } });
      }
    }
    await this.#commit(record, events);
  }

  // --- anchoring --------------------------------------------------------------------------

  #scheduleCheck(documentName: string, document: Y.Doc): void {
    if (!this.#byDocument.get(documentName)?.size || this.#closed) return;
    this.#dirtyDocuments.set(documentName, document);
    this.#checkScheduled ??= setImmediate(() => this.#runChecks());
  }

  /** Once per batch of changes: a cheap synchronous check of every open suggestion of each changed document. */
  #runChecks(): void {
    this.#checkScheduled = null;
    const dirty = this.#dirtyDocuments;
    this.#dirtyDocuments = new Map();
    for (const [documentName, doc] of dirty) {
      for (const id of this.#byDocument.get(documentName) ?? []) {
        const record = this.#open.get(id);
        if (!record || this.#verdict(record, doc) === 'intact') continue;
        this.#queue.run(id, () => this.#recheck(record)).catch((e) => this.#logError(`[suggestions] anchor check of ${id} failed`, e));
      }
    }
  }

  /** intact, or how the anchored range was lost: stale (edited inside, R12) or conflict (deleted, R13). */
  #verdict(record: SuggestionRecord, doc: Y.Doc): AnchorStatus {
    try {
      const { status } = record.state;
      if (status === 'stale') return resolveAnchor(doc, record.anchor) === null ? 'conflict' : 'intact';
      if (status === 'requested' || status === 'streaming' || status === 'ready') return checkAnchor(doc, record.anchor, record.baseText);
      return 'intact';
    } catch (error) {
      this.#logError(`[suggestions] anchor of ${record.id} is unreadable`, error);
      return 'conflict';
    }
  }

  /** Confirms a lost anchor in the suggestion's queue (an accept may have moved it meanwhile), then records it. */
  async #recheck(record: SuggestionRecord): Promise<void> {
    if (!this.#isCurrent(record)) return;
    let verdict = 'intact' as AnchorStatus;
    await this.#documents.editDocument(fileDocName(record.projectId, record.fileId), (doc) => {
      verdict = this.#verdict(record, doc);
    });
    if (verdict !== 'intact') await this.#anchorChanged(record, verdict);
  }

  async #anchorChanged(record: SuggestionRecord, verdict: 'stale' | 'conflict'): Promise<void> {
    const result = transition(record.state, { type: verdict === 'stale' ? 'anchorEdited' : 'anchorDeleted' }, { policy: anyEditor });
    if (!result.ok) return;
    record.state = result.state;
    // Nothing generated from here on could be applied: stop paying for it.
    this.#generations.get(record.id)?.controller.abort();
    await this.#commit(record, [{ suggestionId: record.id, kind: verdict, userId: null }]);
  }

  /** The range to rewrite, anchored on the server's copy. Waits briefly for the requester's latest edits. */
  async #resolveTarget(documentName: string, range: TargetRange): Promise<Target> {
    const deadline = Date.now() + this.#anchorWaitMs;
    for (;;) {
      let target = null as Target | null;
      let problem = null as AppError | null;
      let waiting = false as boolean;
      await this.#documents.editDocument(documentName, (doc) => {
        const text = doc.getText(FILE_TEXT).toString();
        let start: number;
        let end: number;
        if (range.kind === 'offsets') {
          if (range.start < 0 || range.end < range.start || range.end > text.length) {
            problem = new AppError('BAD_INPUT', 'The selected range is outside the file.');
            return;
          }
          ({ start, end } = range);
        } else {
          let resolved;
          try {
            resolved = resolveAnchor(doc, { start: range.start, end: range.end });
          } catch (error) {
            if (isAppError(error) && error.code === 'NOT_FOUND') waiting = true;
            else problem = isAppError(error) ? error : new AppError('BAD_INPUT', 'The selected range is unreadable.');
            return;
          }
          if (resolved === null) {
            problem = new AppError('CONFLICT', 'The selected code was deleted before the request reached the server.');
            return;
          }
          ({ start, end } = resolved);
        }
        target = targetAround(text, createAnchor(doc.getText(FILE_TEXT), start, end), doc);
      });
      if (problem) throw problem;
      if (target) return target;
      if (!waiting || Date.now() > deadline) throw new AppError('CONFLICT', 'Your latest edits have not reached the server yet; try again in a moment.');
      await new Promise((r) => setTimeout(r, 25));
    }
  }

  async #filePath(projectId: string, fileId: string): Promise<string> {
    const entry = await this.#documents.readDocument(treeDocName(projectId), (doc) => doc.getMap<TreeEntry>(TREE_MAP).get(fileId));
    if (!entry || entry.kind !== 'file' || typeof entry.path !== 'string') throw new AppError('NOT_FOUND', 'That file is not in this project.');
    return entry.path;
  }

  // --- applying and undo ------------------------------------------------------------------

  /** Applies accepted hunks as one transaction whose origin is an AiEditOrigin, recording it for undo. */
  async #apply(record: SuggestionRecord, indices: readonly number[], actor: ReviewActor): Promise<ApplyHunksResult> {
    const origin = new AiEditOrigin(record.id, actor.userId);
    let result = null as ApplyHunksResult | null;
    let failure: unknown = null;
    await this.#documents.editDocument(fileDocName(record.projectId, record.fileId), (doc) => {
      try {
        const undo = this.#undoEntry(record.id, doc, origin);
        result = applyHunks(doc, record.anchor, record.baseText, record.unapplied, indices, origin);
        if (!result.ok) return;
        for (const i of indices) undo.hunks.add(i);
        record.anchor = result.anchor;
        record.baseText = result.baseText;
        record.unapplied = result.remaining;
      } catch (error) {
        failure = error;
      }
    }, { user: { id: actor.userId, name: actor.name }, origin });
    if (failure) throw failure;
    return result!;
  }

  /** The undo manager of a suggestion on this copy of the document (a reloaded document starts a new one). */
  #undoEntry(id: string, doc: Y.Doc, origin: AiEditOrigin): UndoEntry {
    const existing = this.#undo.get(id);
    if (existing && existing.doc === doc) {
      existing.manager.addTrackedOrigin(origin);
      return existing;
    }
    if (existing) this.#dropUndo(id);
    const entry: UndoEntry = { doc, manager: createAiEditUndoManager(doc, origin), hunks: new Set() };
    this.#undo.set(id, entry);
    doc.once('destroy', () => {
      if (this.#undo.get(id) === entry) this.#undo.delete(id);
    });
    return entry;
  }

  #dropUndo(id: string): void {
    this.#undo.get(id)?.manager.destroy();
    this.#undo.delete(id);
  }

  // --- state, persistence, events ---------------------------------------------------------

  #ensureRunning(): void {
    if (this.#closed) throw new AppError('UNAVAILABLE', 'The server is shutting down.');
  }

  #track(record: SuggestionRecord): void {
    this.#open.set(record.id, record);
    const documentName = fileDocName(record.projectId, record.fileId);
    let ids = this.#byDocument.get(documentName);
    if (!ids) this.#byDocument.set(documentName, (ids = new Set()));
    ids.add(record.id);
  }

  #retire(record: SuggestionRecord): void {
    this.#open.delete(record.id);
    const documentName = fileDocName(record.projectId, record.fileId);
    const ids = this.#byDocument.get(documentName);
    ids?.delete(record.id);
    if (ids?.size === 0) this.#byDocument.delete(documentName);
  }

  /** The record still tracked (not retired by a project deletion), or a terminal one loaded for undo. */
  #isCurrent(record: SuggestionRecord): boolean {
    return this.#open.get(record.id) === record;
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
    if (!isOpen(record) && this.#isCurrent(record)) this.#retire(record);
  }

  async #publish(record: SuggestionRecord): Promise<void> {
    const policy = await this.#policyOf(record.projectId);
    await this.#ensureNames(userIdsOf(record));
    this.#hub.publish(projectChannel(record.projectId), SUGGESTION_EVENT, this.#view(record, policy));
  }

  /** The policy from the database (decisions are always checked against the current setting). */
  async #loadPolicy(projectId: string): Promise<ApprovalPolicy> {
    const settings = await this.#store.approvalSettings(projectId);
    if (!settings) throw new AppError('NOT_FOUND', 'Project not found.');
    let policy: ApprovalPolicy;
    try {
      policy = parseApprovalPolicy({ kind: settings.approvalPolicy, n: settings.approvalsRequired });
    } catch (error) {
      this.#logError(`[suggestions] project ${projectId} has an invalid approval policy; using any_editor`, error);
      policy = anyEditor;
    }
    this.#policies.set(projectId, policy);
    return policy;
  }

  async #policyOf(projectId: string): Promise<ApprovalPolicy> {
    return this.#policies.get(projectId) ?? (await this.#loadPolicy(projectId).catch(() => anyEditor));
  }

  #remember(actor: ReviewActor): void {
    this.#names.set(actor.userId, actor.name);
  }

  async #ensureNames(ids: Iterable<string>): Promise<void> {
    const missing = [...new Set(ids)].filter((id) => !this.#names.has(id));
    for (const [id, name] of await this.#store.userNames(missing)) this.#names.set(id, name);
  }

  #ref(userId: string): UserRef {
    return { id: userId, name: this.#names.get(userId) ?? 'A former member' };
  }

  #hunkViews(record: SuggestionRecord): HunkView[] {
    return record.hunks.map((h, i) => {
      const review = record.state.hunks[i]!;
      return {
        index: h.index,
        removed: h.removed,
        inserted: h.inserted,
        decision: review.decision,
        approvals: review.approvals.map((u) => this.#ref(u)),
        decidedBy: review.decidedBy ? this.#ref(review.decidedBy) : null,
        decidedAt: record.decidedAt[i] ?? null,
      };
    });
  }

  #display(record: SuggestionRecord): DisplayHunk[] {
    const { status } = record.state;
    if (status === 'requested' || status === 'streaming') return expandDisplay(compactDisplay(record.baseText, record.proposed, true), record.proposed);
    if (status !== 'ready') return [];
    const pending = new Set(record.state.hunks.flatMap((h, i) => (h.decision === 'pending' ? [i] : [])));
    return pendingDisplay(record.unapplied.filter((h) => pending.has(h.index)));
  }

  #view(record: SuggestionRecord, policy: ApprovalPolicy): SuggestionView {
    return {
      id: record.id,
      projectId: record.projectId,
      fileId: record.fileId,
      path: record.path,
      startLine: record.startLine,
      endLine: record.endLine,
      requester: this.#ref(record.requesterId),
      instruction: record.instruction,
      providerId: record.providerId,
      providerLabel: record.providerLabel,
      model: record.model,
      status: record.state.status,
      attempt: record.state.attempt,
      error: record.state.error,
      anchor: { start: Buffer.from(record.anchor.start).toString('base64'), end: Buffer.from(record.anchor.end).toString('base64') },
      baseText: record.baseText,
      proposedText: record.proposed,
      display: this.#display(record),
      hunks: this.#hunkViews(record),
      policy: policy as ApprovalPolicyView,
      metrics: record.metrics,
      undone: record.undone ? { by: this.#ref(record.undone.userId), at: record.undone.at } : null,
      createdAt: record.createdAt.toISOString(),
      updatedAt: record.updatedAt.toISOString(),
    };
  }
}

function userIdsOf(record: SuggestionRecord): string[] {
  const ids = [record.requesterId];
  for (const h of record.state.hunks) {
    ids.push(...h.approvals);
    if (h.decidedBy) ids.push(h.decidedBy);
  }
  if (record.undone) ids.push(record.undone.userId);
  return ids;
}

function decisionEvent(action: DecisionAction, actor: ReviewActor): SuggestionEvent {
  const who = { userId: actor.userId, role: actor.role };
  return 'hunk' in action ? { type: action.type, hunk: action.hunk, actor: who } : { type: action.type, actor: who };
}

/** One review event per hunk the decision touched: a vote that did not decide yet, an accept or a reject. */
function decisionEvents(suggestionId: string, before: SuggestionState, result: Extract<TransitionResult, { ok: true }>, actor: ReviewActor, action: DecisionAction): NewReviewEvent[] {
  const events: NewReviewEvent[] = [];
  const via = action.type === 'acceptAll' || action.type === 'rejectAll' ? { via: action.type } : undefined;
  result.state.hunks.forEach((after, i) => {
    const previous = before.hunks[i]!;
    let kind: NewReviewEvent['kind'] | null = null;
    if (result.accepted.includes(i)) kind = 'accepted';
    else if (result.rejected.includes(i)) kind = 'rejected';
    else if (after.approvals.length > previous.approvals.length) kind = 'approved';
    if (kind) events.push({ suggestionId, kind, userId: actor.userId, hunkIndex: i, ...(via ? { detail: via } : {}) });
  });
  return events;
}

const REFUSAL_MESSAGES: Record<string, (state: SuggestionState) => AppError> = {
  P1: () => new AppError('FORBIDDEN', 'Viewers cannot accept or reject AI edits.'),
  P3: () => new AppError('FORBIDDEN', 'Only the project owner can accept or reject AI edits in this project.'),
  P5: () => new AppError('CONFLICT', 'You already approved this; it needs approvals from other people.'),
  P6: () => new AppError('BAD_INPUT', 'This project does not collect approvals: accept the hunk instead.'),
  X1: (s) => new AppError('CONFLICT', `This suggestion is already ${statusLabel(s.status)}.`),
  X2: (s) => new AppError('CONFLICT', `Not possible while the suggestion is ${statusLabel(s.status)}.`),
  X3: () => new AppError('BAD_INPUT', 'There is no such hunk in this suggestion.'),
  X4: () => new AppError('CONFLICT', 'That hunk was already decided.'),
};

function refusalError(result: Extract<TransitionResult, { ok: false }>, state: SuggestionState): AppError {
  const make = REFUSAL_MESSAGES[result.rule] ?? (() => new AppError('CONFLICT', 'Not possible now.'));
  const error = make(state);
  return new AppError(error.code, error.message, `${result.rule}: ${result.reason}`);
}

function statusLabel(status: SuggestionState['status']): string {
  return status.replace('_', ' ');
}

function failureMessage(error: unknown, log: (message: string, error: unknown) => void): string {
  if (isAppError(error)) return error.message; // InferenceError is an AppError with a user-safe message
  log('[suggestions] provider stream failed unexpectedly', error);
  return 'The AI request failed on the server.';
}

function liveMetrics(m: StreamMetrics): LiveMetrics {
  const round = (n: number | null) => (n === null ? null : Math.round(n * 10) / 10);
  return { ttftMs: round(m.ttftMs), tokens: m.completionTokens, tokensPerSecond: round(m.tokensPerSecond), durationMs: round(m.durationMs) };
}

/** What the prompt and the record need about a range: its text, context and lines. */
function targetAround(text: string, anchor: Anchor, doc: Y.Doc): Target {
  const range = resolveAnchor(doc, anchor) ?? { start: 0, end: 0 };
  return {
    anchor,
    baseText: text.slice(range.start, range.end),
    before: text.slice(0, range.start),
    after: text.slice(range.end),
    startLine: lineAt(text, range.start),
    endLine: lineAt(text, Math.max(range.start, range.end - 1)),
  };
}

function lineAt(text: string, offset: number): number {
  let line = 1;
  for (let i = text.indexOf('\n'); i !== -1 && i < offset; i = text.indexOf('\n', i + 1)) line++;
  return line;
}
