/** Who wrote a Yjs client id's structs. One author per (document, client id), never reassigned. */
export type Author =
  | { kind: 'person'; userId: string }
  | {
    kind: 'ai';
    model: string;
    provider: string;
    /** Who asked for the edit / started the agent run. */
    requestedBy: string | null;
    /** Who accepted the change that wrote these characters. */
    approvedBy: string | null;
    suggestionId?: string;
    agentRunId?: string;
  }
  /** Made by the server with nobody behind it (seeding a new document, imports); `source` says from where. */
  | { kind: 'system'; source?: string };

/**
 * The identity that may keep writing under a client id: a person's user id, or the server (every
 * server-side change has a client id of its own, never reused, so nobody else may add to it).
 */
export function ownerOf(author: Author): string {
  return author.kind === 'person' ? `user:${author.userId}` : 'server';
}

