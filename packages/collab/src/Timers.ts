/**
 * The only source of time the sync server uses, injected so tests can drive idle unloads,
 * debounces and keep-alive pings deterministically (see testing/ManualTimers.ts).
 */
export interface Timers {
  /** Runs `fn` after `ms` milliseconds; `ms === 0` means "after the current I/O phase". */
  setTimeout(fn: () => void, ms: number): TimerHandle;
  clearTimeout(handle: TimerHandle): void;
}

/** Opaque token returned by `Timers.setTimeout`. */
export interface TimerHandle {
  readonly cancel: () => void;
}

/**
 * Node timers. A zero delay uses `setImmediate`: it runs after every socket read of the current
 * event-loop turn, which is what lets the group commit batch updates from many clients without
 * adding the ≥1 ms a `setTimeout(0)` would. Timers are unref'd: they never keep a process alive.
 */
export const systemTimers: Timers = {
  setTimeout(fn, ms) {
    if (ms <= 0) {
      const immediate = setImmediate(fn).unref();
      return { cancel: () => clearImmediate(immediate) };
    }
    const timeout = setTimeout(fn, ms).unref();
    return { cancel: () => clearTimeout(timeout) };
  },
  clearTimeout(handle) {
    handle.cancel();
  },
};
