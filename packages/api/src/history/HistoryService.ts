import { randomInt } from 'node:crypto';
import type * as Y from 'yjs';
import { AppError, FILE_TEXT, TREE_MAP, fileDocName, parseDocName, treeDocName, type TreeEntry } from '@tandem/protocol';
import type { PrismaClient } from '@tandem/db';
import type { DocumentStore, SyncExtension, SyncUser, ValidateUpdatePayload } from '@tandem/collab';
import { AiEditOrigin } from '@tandem/review';
import { DocumentHistory, blameLines, freshClientId, writtenClients, type Author } from '@tandem/history';
import { HistoryStore } from './HistoryStore.ts';
import { CheckpointService } from './CheckpointService.ts';
import { GitExport } from './GitExport.ts';
import { authorViews, type AuthorView } from './authorViews.ts';
import { TimeTravel } from './TimeTravel.ts';
import type { LiveProjectFiles } from '../sandbox/LiveProjectFiles.ts';

export interface EditOptions {
  user?: SyncUser;
  origin?: object;
  /** Who this change is by; default: an AiEditOrigin's AI change, else `user` (or the origin's `userId`), else the system. */
  author?: Author;
}

/** The live documents, as the SyncServer edits them. */
export interface HistoryDocuments {
  editDocument(documentName: string, edit: (doc: Y.Doc) => void, options?: EditOptions): Promise<void>;
  /** Reads without a transaction: nothing stored, broadcast or attributed. */
  readDocument<T>(documentName: string, read: (doc: Y.Doc) => T): Promise<T>;
  /** Restarts a loaded document's idle time (for readers that serve it from a cache). */
  touch(documentName: string): void;
}

export type { AuthorView } from './authorViews.ts';

export interface BlameRangeView {
  fromLine: number;
  toLine: number;
  author: AuthorView | null;
  /** ISO time, coarse (to the minute), or null when unknown. */
  at: string | null;
  aiChars: number;
  chars: number;
}

/**
 * Authorship of every character of every document (README → packages/history): keeps a
 * DocumentHistory per loaded document, refuses updates written under another author's client id
 * (`validateUpdate`), records every durable change (`extension`), gives every server-side change
 * a client id of its own and its author (`over(sync)`), persists to HistoryAuthor / HistorySpan and
 * answers blame.
 */
export class HistoryService {
  readonly #store: HistoryStore;
  readonly #live = new Map<string, DocumentHistory>();
  /** Per document, the write in flight (writes of one document are serial, so a grown span is never overwritten by an older one). */
  readonly #writes = new Map<string, Promise<void>>();
  readonly #aiChanges = new WeakMap<AiEditOrigin, Promise<Omit<Extract<Author, { kind: 'ai' }>, 'approvedBy'>>>();
  #sync: HistoryDocuments | null = null;
  #files: LiveProjectFiles | null = null;
  /** AI changes (one per suggestion or agent run) already preceded by a checkpoint. */
  readonly #checkpointed = new WeakSet<AiEditOrigin>();
  /** Checkpoints and restore, once connected to the live documents (`over`). */
  checkpoints: CheckpointService | null = null;
  /** The project as a git repository, likewise. */
  git: GitExport | null = null;
  /** Time travel over files' histories, likewise. */
  timeTravel: TimeTravel | null = null;

  constructor(
    private readonly prisma: PrismaClient,
    private readonly options: { automaticCheckpointsKept?: number; logError?: (message: string, error: unknown) => void } = {},
  ) {
    this.#store = new HistoryStore(prisma);
  }

  /** Register first among the SyncServer's extensions (before any that change documents on load). */
  readonly extension: SyncExtension = {
    onLoadDocument: async ({ documentName, document }) => {
      const history = new DocumentHistory(await this.#store.load(documentName));
      // Changes made on load (seeding) are written under the server's own id: nobody may claim it.
      history.reserve([document.clientID]);
      this.#live.set(documentName, history);
      // Deleted text is kept for time travel: read before Yjs drops it at the end of the transaction.
      document.on('afterTransaction', (transaction: Y.Transaction) => this.#live.get(documentName)?.captureDeleted(transaction));
    },
    onChange: ({ documentName, document, update, decoded, user, origin, remote }) => {
      const history = this.#live.get(documentName);
      if (!history) return;
      if (remote) {
        history.discardDeleted(update);
        // The node that accepted it records it; here its client ids only become unclaimable.
        if (origin === 'client' && user) history.adopt(update, user.id);
        else history.reserve(writtenClients(update));
        return;
      }
      // A client's update as the sync server decoded it on arrival (read once, not again here).
      if (origin === 'client' && user) history.record(decoded ?? update, { userId: user.id }, Date.now());
      // Server changes made through `over(sync)` are recorded already; anything else is the system's.
      else history.record(update, { client: document.clientID }, Date.now(), { kind: 'system' });
      if (history.pendingAuthors > 0) void this.#persist(documentName);
    },
    onStoreDocument: async ({ documentName, reason }) => {
      await this.#persist(documentName);
      if (reason === 'unload') this.#live.delete(documentName);
    },
  };

  /** Refuses (FORBIDDEN) a person's update that adds structs under a client id somebody else owns. */
  readonly validateUpdate = ({ documentName, ydoc, decoded, user }: ValidateUpdatePayload): void => {
    const history = this.#live.get(documentName);
    if (!history) throw new AppError('UNAVAILABLE', 'The document\'s history is not loaded.', documentName);
    history.admit(decoded, ydoc, user.id);
  };

  /** The live documents, each server-side change written under a fresh client id and attributed. */
  over(sync: HistoryDocuments): HistoryDocuments {
    const documents: HistoryDocuments = {
      editDocument: async (documentName, edit, options = {}) => {
        const author = options.author ?? (await this.#authorOf(options));
        if (options.origin instanceof AiEditOrigin && author.kind === 'ai') await this.#checkpointBefore(documentName, options.origin, author);
        await sync.editDocument(documentName, (doc) => {
          const history = this.#live.get(documentName);
          if (!history) return edit(doc);
          history.attribute(freshClientId(doc, () => randomInt(0, 2 ** 32)), author, Date.now(), edit)(doc);
        }, { ...(options.user ? { user: options.user } : {}), ...(options.origin ? { origin: options.origin } : {}) });
        if ((this.#live.get(documentName)?.pendingAuthors ?? 0) > 0) void this.#persist(documentName);
      },
      readDocument: (documentName, read) => sync.readDocument(documentName, read),
      touch: (documentName) => sync.touch(documentName),
    };
    this.#sync = sync;
    this.checkpoints = new CheckpointService(this.prisma, documents, this.options.automaticCheckpointsKept);
    this.git = new GitExport(this.checkpoints, this);
    this.timeTravel = new TimeTravel(this.prisma, documents, (name) => this.#live.get(name), (projectId, fileId) => this.isFile(projectId, fileId), (projectId) => this.flush(projectId));
    return documents;
  }

  /** Reads trees and texts from this cache of the live documents instead of decoding them per call. */
  readFilesFrom(files: LiveProjectFiles): void {
    this.#files = files;
    if (this.checkpoints) this.checkpoints.files = files;
  }

  /** Stores what is pending for the project's loaded documents (project time travel reads the stored rows). */
  async flush(projectId: string): Promise<void> {
    const names = [...this.#live.keys()].filter((name) => parseDocName(name)?.projectId === projectId);
    await Promise.all(names.map((name) => this.#persist(name)));
  }

  /** Whether `fileId` is a file in the project's tree now. */
  async isFile(projectId: string, fileId: string): Promise<boolean> {
    if (this.#files) return (await this.#files.tree(projectId)).entries.get(fileId)?.kind === 'file';
    if (!this.#sync) throw new AppError('UNAVAILABLE', 'History is not available on this server.');
    return this.#sync.readDocument(treeDocName(projectId), (doc) => doc.getMap<TreeEntry>(TREE_MAP).get(fileId)?.kind === 'file');
  }

  /**
   * The document store with every author claim made durable before the change that made it:
   * a crash between the two can no longer leave text without an author. Pass it to the SyncServer.
   */
  claimsFirst(store: DocumentStore): DocumentStore {
    return {
      load: (name) => store.load(name),
      append: async (name, updates) => {
        // Rare (a new client id): then everything pending is written in one transaction.
        if ((this.#live.get(name)?.pendingAuthors ?? 0) > 0) await this.#persist(name, { rethrow: true });
        return store.append(name, updates);
      },
      compact: (name, snapshot, through) => store.compact(name, snapshot, through),
    };
  }

  /** Documents written straight to the store (a new project's files): everything in them is by `author`, now. */
  async recordCreated(documents: readonly { name: string; snapshot: Uint8Array }[], author: Author): Promise<void> {
    const at = Date.now();
    for (const { name, snapshot } of documents) {
      const history = new DocumentHistory();
      history.record(snapshot, author.kind === 'person' ? { userId: author.userId } : { client: 0 }, at, author);
      await this.#store.save(name, history.takeDirty());
    }
  }

  /** Per line range of a file: who wrote it and when. The caller checks membership. */
  async blame(projectId: string, fileId: string): Promise<BlameRangeView[]> {
    const sync = this.#sync;
    if (!sync) throw new AppError('UNAVAILABLE', 'History is not available on this server.');
    if (!(await this.isFile(projectId, fileId))) throw new AppError('NOT_FOUND', 'That file is not in this project.');
    const documentName = fileDocName(projectId, fileId);
    const ranges = await sync.readDocument(documentName, (doc) => {
      const history = this.#live.get(documentName);
      return history ? blameLines(doc.getText(FILE_TEXT), history) : [];
    });
    const view = await authorViews(this.prisma, ranges.map((r) => r.author));
    return ranges.map((r) => ({
      fromLine: r.fromLine, toLine: r.toLine, aiChars: r.aiChars, chars: r.chars,
      at: r.at === null ? null : new Date(r.at).toISOString(),
      author: r.author === null ? null : view(r.author),
    }));
  }

  /** Writes what is pending for a document (after any write still in flight). */
  #persist(documentName: string, options: { rethrow?: boolean } = {}): Promise<void> {
    const history = this.#live.get(documentName);
    const previous = this.#writes.get(documentName) ?? Promise.resolve();
    const next = previous.then(async () => {
      if (!history) return;
      const changes = history.takeDirty();
      try {
        await this.#store.save(documentName, changes);
      } catch (error) {
        history.restoreDirty(changes);
        if (options.rethrow) throw error;
        (this.options.logError ?? console.error)(`[history] could not store the history of ${documentName} (kept in memory, retried later)`, error);
      }
    });
    // The queue goes on after a failed write (its changes are pending again).
    const settled = next.catch(() => undefined);
    this.#writes.set(documentName, settled);
    void settled.finally(() => {
      if (this.#writes.get(documentName) === settled) this.#writes.delete(documentName);
    });
    return next;
  }

  /** The automatic checkpoint before an AI change is first applied (once per suggestion / agent run). */
  async #checkpointBefore(documentName: string, origin: AiEditOrigin, author: Extract<Author, { kind: 'ai' }>): Promise<void> {
    const projectId = parseDocName(documentName)?.projectId;
    if (!projectId || !this.checkpoints || this.#checkpointed.has(origin)) return;
    this.#checkpointed.add(origin);
    const name = author.agentRunId ? `Before accepting agent run (${author.model})` : `Before accepting AI edit (${author.model})`;
    const approver = author.approvedBy ? { id: author.approvedBy, name: '' } : null;
    await this.checkpoints.create(projectId, name, author.agentRunId ? 'agent' : 'ai-edit', approver);
  }

  async #authorOf(options: EditOptions): Promise<Author> {
    const { origin, user } = options;
    if (origin instanceof AiEditOrigin) {
      let change = this.#aiChanges.get(origin);
      if (!change) this.#aiChanges.set(origin, (change = this.#aiChange(origin.suggestionId)));
      return { ...(await change), approvedBy: user?.id ?? origin.userId };
    }
    const userId = user?.id ?? (origin && 'userId' in origin && typeof origin.userId === 'string' ? origin.userId : null);
    return userId !== null ? { kind: 'person', userId } : { kind: 'system' };
  }

  /** An AiEditOrigin names a suggestion, or an agent run (its changeset's accepts). */
  async #aiChange(id: string): Promise<Omit<Extract<Author, { kind: 'ai' }>, 'approvedBy'>> {
    const suggestion = await this.prisma.suggestion.findUnique({ where: { id }, select: { model: true, provider: true, requesterId: true } });
    if (suggestion) return { kind: 'ai', model: suggestion.model, provider: suggestion.provider, requestedBy: suggestion.requesterId, suggestionId: id };
    const run = await this.prisma.agentRun.findUnique({ where: { id }, select: { model: true, provider: true, userId: true } });
    return { kind: 'ai', model: run?.model ?? 'unknown', provider: run?.provider ?? 'unknown', requestedBy: run?.userId ?? null, agentRunId: id };
  }
}
