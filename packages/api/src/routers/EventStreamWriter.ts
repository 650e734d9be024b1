import { getErrorShape, getTRPCErrorFromUnknown, isTrackedEnvelope, TRPCError } from '@trpc/server/unstable-core-do-not-import';
import { APP_ERROR_CODES, AppError } from '@tandem/protocol';
import type { Context } from '../trpc.ts';
import { streamRouter } from './streamRouter.ts';

/** The HTTP response the stream is written to (a Node ServerResponse fits). */
export interface SseResponse {
  writeHead(status: number, headers: Record<string, string>): unknown;
  write(chunk: string): boolean;
  end(): unknown;
  destroy(): unknown;
  /** Bytes written but not yet sent: a consumer that lets this grow past the cap is dropped. */
  readonly writableLength: number;
}

const PATH = 'stream.events';
const config = streamRouter._def._config;
const createCaller = streamRouter.createCaller as (ctx: Context, opts: { signal: AbortSignal }) => { events(input: unknown): Promise<AsyncIterable<unknown>> };
/** Frames by payload object: the hub hands every subscriber the same object, so each event is encoded once. */
const frames = new WeakMap<object, string>();

const frame = (event: string, data: string) => `event: ${event}\ndata: ${data}\n\n\n`;
const PING = frame('ping', '');
const RETURN = frame('return', '');

/**
 * Serves `stream.events` over SSE with exactly the frames tRPC's `sseStreamProducer` writes (so
 * `httpSubscriptionLink` is unchanged), but encodes each event once for all its subscribers and
 * writes it straight to the response instead of through a chain of web streams per subscriber.
 * The procedure itself runs through a caller: same input validation, authentication, PAT scopes,
 * `requireRole(viewer)` (NOT_FOUND for non-members) and the hub's endings (revocation, expiry).
 */
export async function writeEventStream(opts: {
  ctx: Context;
  /** The `input` query parameter, still JSON. */
  rawInput: string | null;
  /** From the Last-Event-ID header or query (tRPC puts it into the input). */
  lastEventId: string | null;
  res: SseResponse;
  /** Aborts when the client goes away. */
  signal: AbortSignal;
  /** A consumer whose unsent bytes exceed this is disconnected; it resumes from its last id. */
  maxBufferedBytes?: number;
}): Promise<void> {
  const { res, ctx } = opts;
  const maxBuffered = opts.maxBufferedBytes ?? 4 * 1024 * 1024;
  let input: unknown;
  let events: AsyncIterable<unknown> | undefined;
  let failure: unknown;
  try {
    try {
      input = opts.rawInput === null ? undefined : JSON.parse(opts.rawInput);
    } catch (cause) {
      throw new TRPCError({ code: 'PARSE_ERROR', cause });
    }
    if (opts.lastEventId) input = input && typeof input === 'object' ? { ...input, lastEventId: opts.lastEventId } : { lastEventId: opts.lastEventId };
    // Subscribed before `connected` is written (see EventHub.subscribe), as through tRPC.
    events = await createCaller(ctx, { signal: opts.signal }).events(input);
  } catch (e) {
    failure = e;
  }

  res.writeHead(200, { 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-cache, no-transform', 'X-Accel-Buffering': 'no', Connection: 'keep-alive' });
  res.write(frame('connected', JSON.stringify(config.sse?.client ?? {})));
  const pingMs = config.sse?.ping?.enabled ? (config.sse.ping.intervalMs ?? 1000) : 0;
  let wrote = true;
  const ping = pingMs > 0 ? setInterval(() => (wrote ? (wrote = false) : res.write(PING)), pingMs) : undefined;
  try {
    if (!events) throw failure;
    for await (const value of events) {
      const [id, payload] = isTrackedEnvelope(value) ? value : [undefined, value];
      let chunk = typeof payload === 'object' && payload !== null ? frames.get(payload) : undefined;
      if (chunk === undefined) {
        chunk = `data: ${JSON.stringify(payload)}\n${id === undefined ? '' : `id: ${id}\n`}\n\n`;
        if (typeof payload === 'object' && payload !== null) frames.set(payload, chunk);
      }
      res.write(chunk);
      wrote = true;
      if (res.writableLength > maxBuffered) {
        // Dropped without an error frame: the browser's EventSource reconnects and resumes.
        res.destroy();
        return;
      }
    }
    if (!opts.signal.aborted) res.write(RETURN);
  } catch (cause) {
    if (!opts.signal.aborted) {
      // The hub's endings (access removed, signed out, session expired) keep their code and
      // message, so the browser stops for good instead of retrying an "internal" error.
      const error = cause instanceof AppError
        ? new TRPCError({ code: APP_ERROR_CODES[cause.code].trpc, message: cause.message, cause })
        : getTRPCErrorFromUnknown(cause);
      const shape = getErrorShape({ config, ctx, error, input, path: PATH, type: 'subscription' });
      res.write(frame('serialized-error', JSON.stringify(shape)));
    }
  } finally {
    clearInterval(ping);
  }
  res.end();
}
