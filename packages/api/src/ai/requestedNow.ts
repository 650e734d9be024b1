/**
 * Asks `source` for its first item now (for a provider stream: sends the request) and iterates it
 * later; breaking out of the loop still closes it.
 */
export function requestedNow<T>(source: AsyncIterable<T>): AsyncIterable<T> {
  const iterator = source[Symbol.asyncIterator]();
  let first: Promise<IteratorResult<T>> | null = iterator.next();
  first.catch(() => undefined); // rejections are seen when the loop reads it
  return {
    [Symbol.asyncIterator]: () => ({
      next: () => {
        const next = first ?? iterator.next();
        first = null;
        return next;
      },
      return: async (value?: unknown) => (await iterator.return?.(value)) ?? { done: true, value: undefined as T },
    }),
  };
}
