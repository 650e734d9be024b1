import { randomInt } from 'node:crypto';
import type * as Y from 'yjs';
import { AppError, FILE_TEXT, TREE_MAP, fileDocName, parseDocName, treeDocName, type TreeEntry } from '@tandem/protocol';
import type { PrismaClient } from '@tandem/db';
import type { SyncExtension, SyncUser, ValidateUpdatePayload } from '@tandem/collab';
import { AiEditOrigin } from '@tandem/review';
import { DocumentHistory, blameLines, freshClientId, writtenClients, type Author } from '@tandem/history';
import { HistoryStore } from './HistoryStore.ts';
import { CheckpointService } from './CheckpointService.ts';
import { GitExport } from './GitExport.ts';
import type { UserRef } from '../suggestions/suggestionEvents.ts';

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

export type AuthorView =
  | { kind: 'person'; user: UserRef }
  | { kind: 'ai'; model: string; provider: string; requestedBy: UserRef | null; approvedBy: UserRef | null; suggestionId: string | null; agentRunId: string | null }
  | { kind: 'system' };

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
  /** AI changes (one per suggestion or agent run) already preceded by a checkpoint. */
  readonly #checkpointed = new WeakSet<AiEditOrigin>();
  /** Checkpoints and restore, once connected to the live documents (`over`). */
  checkpoints: CheckpointService | null = null;
  /** The project as a git repository, likewise. */
  git: GitExport | null = null;

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
    },
    onChange: ({ documentName, document, update, decoded, user, origin, remote }) => {
      const history = this.#live.get(documentName);
      if (!history) return;
      if (remote) {
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
    return documents;
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
    const isFile = await sync.readDocument(treeDocName(projectId), (doc) => doc.getMap<TreeEntry>(TREE_MAP).get(fileId)?.kind === 'file');
    if (!isFile) throw new AppError('NOT_FOUND', 'That file is not in this project.');
    const documentName = fileDocName(projectId, fileId);
    const ranges = await sync.readDocument(documentName, (doc) => {
      const history = this.#live.get(documentName);
      return history ? blameLines(doc.getText(FILE_TEXT), history) : [];
    });
    const ids = new Set<string>();
    for (const { author } of ranges) {
      if (author?.kind === 'person') ids.add(author.userId);
      if (author?.kind === 'ai') for (const id of [author.requestedBy, author.approvedBy]) if (id) ids.add(id);
    }
    const users = await this.prisma.user.findMany({ where: { id: { in: [...ids] } }, select: { id: true, name: true } });
    const names = new Map(users.map((u) => [u.id, u.name]));
    const ref = (id: string | null): UserRef | null => (id === null ? null : { id, name: names.get(id) ?? 'Former member' });
    return ranges.map((r) => ({
      fromLine: r.fromLine, toLine: r.toLine, aiChars: r.aiChars, chars: r.chars,
      at: r.at === null ? null : new Date(r.at).toISOString(),
      author: r.author === null ? null
        : r.author.kind === 'person' ? { kind: 'person', user: ref(r.author.userId)! }
        : r.author.kind === 'ai' ? {
          kind: 'ai', model: r.author.model, provider: r.author.provider, requestedBy: ref(r.author.requestedBy), approvedBy: ref(r.author.approvedBy),
          suggestionId: r.author.suggestionId ?? null, agentRunId: r.author.agentRunId ?? null,
        }
        : { kind: 'system' },
    }));
  }

  /** Writes what is pending for a document (after any write still in flight). */
  #persist(documentName: string): Promise<void> {
    const history = this.#live.get(documentName);
    const previous = this.#writes.get(documentName) ?? Promise.resolve();
    const next = previous.then(async () => {
      if (!history) return;
      const changes = history.takeDirty();
      try {
        await this.#store.save(documentName, changes);
      } catch (error) {
        history.restoreDirty(changes);
        (this.options.logError ?? console.error)(`[history] could not store the history of ${documentName} (kept in memory, retried later)`, error);
      }
    });
    this.#writes.set(documentName, next);
    void next.finally(() => {
      if (this.#writes.get(documentName) === next) this.#writes.delete(documentName);
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
