import * as Y from 'yjs';
import type { Awareness } from 'y-protocols/awareness';

/**
 * Presence design. Awareness is per Y.Doc, and a project is many docs, so presence is split:
 * - The TREE document's awareness is the project-wide roster: one state per browser tab,
 *   `{ user, activeFile }`. Its client id (the tree doc's clientID) identifies the tab: the
 *   "session" that follow mode targets.
 * - Each open FILE document's awareness carries `{ user, session, selection }`: y-monaco writes
 *   `selection` (relative positions) and draws remote selections; `session` links a cursor back
 *   to its tab in the roster, so a follower finds the leader's cursor in the leader's file.
 * States come from other browsers: they are validated before use and never trusted for access.
 */
export interface PresenceUser {
  id: string;
  name: string;
  color: string;
}

export interface TreePresence {
  user: PresenceUser;
  activeFile: string | null;
}

export interface FilePresence {
  user: PresenceUser;
  session: number;
  selection?: { anchor: unknown; head: unknown } | null;
}

export interface Participant {
  /** The tab's session id (its tree-doc awareness client id). */
  session: number;
  user: PresenceUser;
  activeFile: string | null;
  isSelf: boolean;
}

export function asPresenceUser(value: unknown): PresenceUser | null {
  if (!value || typeof value !== 'object') return null;
  const { id, name, color } = value as Record<string, unknown>;
  if (typeof id !== 'string' || typeof name !== 'string' || typeof color !== 'string') return null;
  // Colours end up in a style sheet: accept only the hsl() form Avatar.userColor produces.
  const safeColor = /^hsl\(\d{1,3} \d{1,3}% \d{1,3}%\)$/.test(color) ? color : 'hsl(220 10% 60%)';
  return { id: id.slice(0, 64), name: name.slice(0, 80), color: safeColor };
}

/** Everyone in the project right now, one entry per user (their most recently joined tab), self first. */
export function participantsOf(awareness: Awareness): Participant[] {
  const byUser = new Map<string, Participant>();
  const selfId = awareness.clientID;
  for (const [session, state] of awareness.getStates()) {
    const user = asPresenceUser((state as Partial<TreePresence>).user);
    if (!user) continue;
    const raw = (state as Partial<TreePresence>).activeFile;
    const participant: Participant = { session, user, activeFile: typeof raw === 'string' ? raw : null, isSelf: session === selfId };
    const seen = byUser.get(user.id);
    // Prefer this tab for the user, else a tab that has a file open.
    if (!seen || (!seen.isSelf && (participant.isSelf || (!seen.activeFile && participant.activeFile)))) byUser.set(user.id, participant);
  }
  return [...byUser.values()].sort((a, b) => (a.isSelf === b.isSelf ? a.user.name.localeCompare(b.user.name) : a.isSelf ? -1 : 1));
}

/** The file-awareness state of the tab `session`, if it has a cursor in this file. */
export function cursorOfSession(awareness: Awareness, session: number): { clientId: number; state: FilePresence } | null {
  for (const [clientId, state] of awareness.getStates()) {
    const s = state as Partial<FilePresence>;
    if (s.session === session && s.selection) return { clientId, state: s as FilePresence };
  }
  return null;
}

/** Index in `text` of a cursor head (a relative position from another client), or null. */
export function cursorHeadIndex(head: unknown, file: { doc: Y.Doc; text: Y.Text }): number | null {
  if (!head || typeof head !== 'object') return null;
  try {
    const absolute = Y.createAbsolutePositionFromRelativePosition(head as Y.RelativePosition, file.doc);
    return absolute && absolute.type === file.text ? absolute.index : null;
  } catch {
    return null; // malformed position from another client
  }
}

/** Other participants by the file they have open (the tree's coloured dots). */
export function presenceOf(participants: Participant[]): Map<string, Participant[]> {
  const map = new Map<string, Participant[]>();
  for (const p of participants) {
    if (p.isSelf || !p.activeFile) continue;
    map.set(p.activeFile, [...(map.get(p.activeFile) ?? []), p]);
  }
  return map;
}
