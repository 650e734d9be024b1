import type { Readable, Writable } from 'node:stream';
import type { AnyMessage, Stream } from '@agentclientprotocol/sdk';

/** Largest JSON-RPC frame accepted from an agent (a whole file read back is well below). */
const MAX_FRAME_BYTES = 8 * 1024 * 1024;

type Read = { value: AnyMessage; done: false } | { value: undefined; done: true };

/**
 * The ACP stream over an agent's stdin/stdout: one JSON-RPC message per line. Stricter than the
 * SDK's `ndJsonStream`, which answers a bad line with a parse error and carries on: an agent that
 * prints anything but protocol on stdout is broken (its next reply may never come), so the run
 * ends at once with what it printed (`onBroken`). `onActivity` fires on every chunk (the hang watchdog).
 *
 * Not web streams: the SDK's connection only calls `readable.getReader()` (`read`, `releaseLock`,
 * `cancel`) and `writable.getWriter()` (`write`, `releaseLock`), and Node's web streams cost
 * more per message than the rest of an `fs/*` call. A message parsed while the connection waits
 * is handed to its pending `read` at once; one that comes earlier is queued.
 */
export function acpStdioStream(stdin: Writable, stdout: Readable, on: { activity: () => void; broken: (message: string) => void }): Stream {
  let partial: Buffer[] = [];
  let partialBytes = 0;
  let ended = false;
  let failure: Error | null = null;
  const queue: AnyMessage[] = [];
  let waiting: { resolve: (r: Read) => void; reject: (e: Error) => void } | null = null;

  const deliver = (message: AnyMessage): void => {
    if (!waiting) return void queue.push(message);
    const { resolve } = waiting;
    waiting = null;
    resolve({ value: message, done: false });
  };
  const finish = (error: Error | null): void => {
    if (ended) return;
    ended = true;
    failure = error;
    const w = waiting;
    waiting = null;
    if (!w) return;
    if (error) w.reject(error);
    else w.resolve({ value: undefined, done: true });
  };
  const fail = (message: string): void => {
    if (ended) return;
    stdout.removeAllListeners('data');
    stdout.destroy();
    on.broken(message);
    finish(new Error(message));
  };

  stdout.on('data', (chunk: Buffer) => {
    on.activity();
    // The partial line is kept as pieces, joined once when its newline comes (a big frame stays linear).
    let start = 0;
    let nl: number;
    while ((nl = chunk.indexOf(10, start)) >= 0) {
      const tail = chunk.subarray(start, nl);
      const line = (partial.length === 0 ? tail : Buffer.concat([...partial, tail])).toString('utf8').trim();
      partial = [];
      partialBytes = 0;
      start = nl + 1;
      if (line === '') continue;
      let message: unknown;
      try {
        message = JSON.parse(line);
      } catch {
        return fail(`sent a malformed JSON-RPC frame: ${JSON.stringify(line.slice(0, 200))}`);
      }
      if (typeof message !== 'object' || message === null || Array.isArray(message)) {
        return fail(`sent a JSON-RPC frame that is not a message object: ${JSON.stringify(line.slice(0, 200))}`);
      }
      deliver(message as AnyMessage);
    }
    if (start < chunk.length) {
      partial.push(chunk.subarray(start));
      partialBytes += chunk.length - start;
      if (partialBytes > MAX_FRAME_BYTES) fail(`sent a JSON-RPC frame over ${MAX_FRAME_BYTES / 1024 / 1024} MiB.`);
    }
  });
  stdout.once('end', () => finish(null));
  stdout.once('error', (e) => fail(`closed its output: ${e.message}`));

  const reader = {
    read(): Promise<Read> {
      const next = queue.shift();
      if (next !== undefined) return Promise.resolve({ value: next, done: false });
      if (ended) return failure ? Promise.reject(failure) : Promise.resolve({ value: undefined, done: true });
      if (waiting) return Promise.reject(new TypeError('A read is already pending.'));
      return new Promise<Read>((resolve, reject) => (waiting = { resolve, reject }));
    },
    releaseLock(): void {},
    async cancel(): Promise<void> {
      queue.length = 0;
      stdout.destroy();
      finish(null);
    },
  };
  const writer = {
    write(message: AnyMessage): Promise<void> {
      // A dead agent's stdin: the exit is what the run reports, not the failed write.
      if (stdin.destroyed || !stdin.writable) return Promise.resolve();
      // Done once handed to the pipe (no wait for the write's completion per message), unless the
      // agent is not reading: then the next message waits until the pipe drains or closes.
      if (stdin.write(`${JSON.stringify(message)}\n`)) return Promise.resolve();
      return new Promise<void>((resolve) => {
        const go = (): void => {
          stdin.off('drain', go);
          stdin.off('close', go);
          resolve();
        };
        stdin.on('drain', go);
        stdin.on('close', go);
      });
    },
    releaseLock(): void {},
  };
  return {
    readable: { getReader: () => reader } as unknown as ReadableStream<AnyMessage>,
    writable: { getWriter: () => writer } as unknown as WritableStream<AnyMessage>,
  };
}
