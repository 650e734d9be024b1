import type { Caller } from './credentials.ts';

interface Entry {
  caller: Caller;
  cachedAt: number;
}

/**
 * Callers of recently seen sessions and tokens, so a signed-in request costs no database query.
 * Exact: every way a credential ends (sign-out, password change, token revocation) calls
 * `forget` on every node (over the node bus), and an entry never outlives its credential's
 * expiry. `maxAgeMs` only bounds how long a lost bus message could matter. Bounded in size
 * (oldest first out); misses are not cached, so random cookies cannot fill it.
 */
export class CallerCache {
  private readonly byKey = new Map<string, Entry>();
  private readonly keyById = new Map<string, string>();
  /** Bumped by every forget/clear: a database read that began before it must not be cached. */
  private generation = 0;

  constructor(
    private readonly maxAgeMs: number,
    private readonly maxEntries: number,
    private readonly now: () => number,
  ) {}

  get(key: string): Caller | null {
    const e = this.byKey.get(key);
    if (!e) return null;
    const t = this.now();
    const expiresAt = e.caller.credential.expiresAt;
    if (t - e.cachedAt >= this.maxAgeMs || (expiresAt && expiresAt.getTime() <= t)) {
      this.delete(key, e);
      return null;
    }
    return e.caller;
  }

  /** Call before reading a credential from the database; pass the result to `set`. */
  begin(): number {
    return this.generation;
  }

  set(key: string, caller: Caller, readAt: number): void {
    if (readAt !== this.generation) return;
    const old = this.byKey.get(key);
    if (old) this.delete(key, old);
    if (this.byKey.size >= this.maxEntries) {
      const [oldestKey, oldest] = this.byKey.entries().next().value as [string, Entry];
      this.delete(oldestKey, oldest);
    }
    this.byKey.set(key, { caller, cachedAt: this.now() });
    this.keyById.set(caller.credential.id, key);
  }

  /** Drops the credential with this id (session id or token id). */
  forget(credentialId: string): void {
    this.generation++;
    const key = this.keyById.get(credentialId);
    const e = key === undefined ? undefined : this.byKey.get(key);
    if (key !== undefined && e) this.delete(key, e);
    else this.keyById.delete(credentialId);
  }

  clear(): void {
    this.generation++;
    this.byKey.clear();
    this.keyById.clear();
  }

  get size(): number {
    return this.byKey.size;
  }

  private delete(key: string, e: Entry): void {
    this.byKey.delete(key);
    if (this.keyById.get(e.caller.credential.id) === key) this.keyById.delete(e.caller.credential.id);
  }
}
