import * as decoding from 'lib0/decoding';
import * as encoding from 'lib0/encoding';
import type { SyncUser } from './SyncExtension.ts';

/** Awareness client ids one connection may own (a tab uses one per document). */
export const MAX_AWARENESS_IDS_PER_CONNECTION = 8;

export interface AwarenessClaim {
  /** Ids the connection set before (it may update or remove them). */
  owns(clientId: number): boolean;
  /** Whether the id currently belongs to someone else (another connection, or another node's client). */
  takenByOther(clientId: number): boolean;
  ownedCount: number;
  user: SyncUser;
}

/**
 * Rewrites a client's awareness update (y-protocols encoding: count, then per client id: clock and
 * JSON state) so it can only speak for itself: entries for ids that belong to someone else are
 * dropped (honest y-websocket clients echo everyone's states back unchanged, so this is not an
 * error), ids beyond MAX_AWARENESS_IDS_PER_CONNECTION are dropped, and every state's `user.id` /
 * `user.name` are set from the authenticated identity. Returns null when nothing is left.
 * Throws on a malformed update (like applyAwarenessUpdate).
 */
export function claimAwareness(update: Uint8Array, claim: AwarenessClaim): Uint8Array | null {
  const decoder = decoding.createDecoder(update);
  const count = decoding.readVarUint(decoder);
  const kept: { clientId: number; clock: number; state: string }[] = [];
  let newIds = 0;
  for (let i = 0; i < count; i++) {
    const clientId = decoding.readVarUint(decoder);
    const clock = decoding.readVarUint(decoder);
    const state = JSON.parse(decoding.readVarString(decoder)) as unknown;
    if (!claim.owns(clientId)) {
      if (claim.takenByOther(clientId)) continue;
      if (state === null) continue; // removing a state it never set: nothing to do
      if (claim.ownedCount + ++newIds > MAX_AWARENESS_IDS_PER_CONNECTION) continue;
    }
    kept.push({ clientId, clock, state: JSON.stringify(withIdentity(state, claim.user)) });
  }
  if (decoding.hasContent(decoder)) throw new Error('trailing bytes after the awareness update');
  if (kept.length === 0) return null;
  const encoder = encoding.createEncoder();
  encoding.writeVarUint(encoder, kept.length);
  for (const { clientId, clock, state } of kept) {
    encoding.writeVarUint(encoder, clientId);
    encoding.writeVarUint(encoder, clock);
    encoding.writeVarString(encoder, state);
  }
  return encoding.toUint8Array(encoder);
}

const DEFAULT_COLOR = 'hsl(220 10% 60%)';

function withIdentity(state: unknown, user: SyncUser): unknown {
  if (state === null || typeof state !== 'object' || Array.isArray(state)) return state === null ? null : { user: identity(undefined, user) };
  const s = state as Record<string, unknown>;
  return { ...s, user: identity(s.user, user) };
}

function identity(claimed: unknown, user: SyncUser): Record<string, unknown> {
  const base = claimed !== null && typeof claimed === 'object' && !Array.isArray(claimed) ? (claimed as Record<string, unknown>) : {};
  return { ...base, id: user.id, name: user.name, color: typeof base.color === 'string' ? base.color : DEFAULT_COLOR };
}
