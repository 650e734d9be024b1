import type { Readable, Writable } from 'node:stream';
import type { AnyMessage, Stream } from '@agentclientprotocol/sdk';

/** Largest JSON-RPC frame accepted from an agent (a whole file read back is well below). */
const MAX_FRAME_BYTES = 8 * 1024 * 1024;

/**
 * The ACP stream over an agent's stdin/stdout: one JSON-RPC message per line. Stricter than the
 * SDK's `ndJsonStream`, which answers a bad line with a parse error and carries on: an agent that
 * prints anything but protocol on stdout is broken (its next reply may never come), so the run
 * ends at once with what it printed (`onBroken`). `onActivity` fires on every chunk (the hang watchdog).
 */
export function acpStdioStream(stdin: Writable, stdout: Readable, on: { activity: () => void; broken: (message: string) => void }): Stream {
  let partial: Buffer[] = [];
  let partialBytes = 0;
  let ended = false;
  const readable = new ReadableStream<AnyMessage>({
    start(controller) {
      const fail = (message: string): void => {
        if (ended) return;
        ended = true;
        stdout.removeAllListeners('data');
        stdout.destroy();
        on.broken(message);
        controller.error(new Error(message));
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
          controller.enqueue(message as AnyMessage);
        }
        if (start < chunk.length) {
          partial.push(chunk.subarray(start));
          partialBytes += chunk.length - start;
          if (partialBytes > MAX_FRAME_BYTES) fail(`sent a JSON-RPC frame over ${MAX_FRAME_BYTES / 1024 / 1024} MiB.`);
        }
      });
      stdout.once('end', () => {
        if (!ended) controller.close();
        ended = true;
      });
      stdout.once('error', (e) => fail(`closed its output: ${e.message}`));
    },
    cancel() {
      stdout.destroy();
    },
  });
  const writable = new WritableStream<AnyMessage>({
    write(message) {
      // A dead agent's stdin: the exit is what the run reports, not the failed write.
      if (stdin.destroyed || !stdin.writable) return;
      // Done once handed to the pipe (no wait for the write's completion per message), unless the
      // agent is not reading: then the next message waits until the pipe drains or closes.
      if (stdin.write(`${JSON.stringify(message)}\n`)) return;
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
    close() {
      stdin.end();
    },
  });
  return { readable, writable };
}
