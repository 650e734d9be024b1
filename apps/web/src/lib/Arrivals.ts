/**
 * What arrived as live events while a list was being fetched. Those are newer than the list (it
 * may have been read on the server before they happened), so merging the list must keep them.
 */
export class Arrivals<V> {
  private readonly open = new Set<Map<string, V>>();

  /** An event brought `value` with this id. */
  saw(id: string, value: V): void {
    for (const arrived of this.open) arrived.set(id, value);
  }

  /** Runs `fetch`; returns its result and what arrived meanwhile. */
  async during<T>(fetch: () => Promise<T>): Promise<[T, Map<string, V>]> {
    const arrived = new Map<string, V>();
    this.open.add(arrived);
    try {
      return [await fetch(), arrived];
    } finally {
      this.open.delete(arrived);
    }
  }
}
