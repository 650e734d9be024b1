import type * as Y from 'yjs';
import type { PrismaClient } from '@tandem/db';
import type { SyncUser } from '@tandem/collab';
import type { InferenceProvider } from '@tandem/inference';
import type { Role } from '@tandem/protocol';
import type { EventHub } from '../EventHub.ts';

/** The documents a suggestion reads and edits: the SyncServer's live copies (structural, so tests and the app pass it). */
export interface SuggestionDocuments {
  editDocument(documentName: string, edit: (doc: Y.Doc) => void, options?: { user?: SyncUser; origin?: object }): Promise<void>;
  /** Reads without a transaction: nothing stored or broadcast. */
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
