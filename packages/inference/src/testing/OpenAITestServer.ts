import { createServer, type IncomingHttpHeaders, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A local HTTP server that speaks the OpenAI streaming wire protocol (Chat Completions and legacy
 * Completions, SSE) with a controllable pace and injectable faults. It is a TEST DOUBLE for
 * provider tests, end-to-end tests and benchmarks — never a provider the app ships.
 *
 * Pacing: tokens are emitted on a schedule computed from the stream start (token i is due at
 * ttft + i/rate), and every timer tick writes ALL tokens that are due in one socket write. So
 * 3,000+ tok/s is accurate without one setTimeout per token. `tokensPerSecond: Infinity` (or 0)
 * writes as fast as the socket drains, for ceiling tests.
 */

export type TestServerFault =
  /** 429 with `Retry-After` (seconds) and, when given, `retry-after-ms`. */
  | { kind: 'rate_limit'; retryAfterSeconds?: number; retryAfterMs?: number }
  | { kind: 'server_error'; status?: number }
  /** 401/403 whatever the key. (Set `apiKey` instead to check real keys.) */
  | { kind: 'auth'; status?: 401 | 403 }
  /** Sends headers (and `afterTokens` tokens), then holds the connection silent. */
  | { kind: 'stall'; afterTokens?: number }
  /** Sends `afterTokens` tokens, then a `data:` line that is not JSON, then ends. */
  | { kind: 'malformed'; afterTokens?: number }
  /** Sends `afterTokens` tokens, then destroys the socket without finishing the stream. */
  | { kind: 'drop'; afterTokens?: number }
  /** Sends `afterTokens` tokens, then an in-stream `{ error: … }` event, then `[DONE]`. */
  | { kind: 'error_event'; afterTokens?: number };

export interface RecordedRequest {
  id: number;
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  /** Parsed JSON body (undefined when the body was not JSON). */
  body: Record<string, unknown> | undefined;
  receivedAt: number;
  /** Client port: equal ports on consecutive requests mean the client reused the connection. */
  remotePort: number | undefined;
  tokensSent: number;
  /** `closed_early`: the client closed the connection before the server finished. */
  outcome: 'pending' | 'completed' | 'closed_early' | 'dropped_by_server';
  closedAt: number | undefined;
}

export type TokenSource = readonly string[] | ((request: RecordedRequest) => readonly string[]);

/** A function call the scripted model makes. `arguments` is sent verbatim (it may be bad JSON). */
export interface ScriptedToolCall {
  id?: string;
  name: string;
  arguments: string;
}

/**
 * One scripted model turn (one chat request): text, then function calls streamed as
 * `delta.tool_calls` fragments, or a fault (429, drop mid-stream, …) instead of / during it.
 * `afterTokens` of a streaming fault counts stream units: text tokens, then call fragments.
 */
export interface ScriptedTurn {
  content?: string | readonly string[];
  toolCalls?: readonly ScriptedToolCall[];
  fault?: TestServerFault;
}

/**
 * Multi-turn scripts. An array is consumed one turn per chat request, in order (requests past
 * its end get the default tokens). A function sees each request (with the tool results the
 * client sent back) and decides the turn, so a script can react: "if the test failed, fix it".
 */
export type TurnScript = readonly ScriptedTurn[] | ((request: RecordedRequest, turn: number) => ScriptedTurn | undefined);

export interface OpenAITestServerOptions {
  /** Delay after the response headers before the first token. Default 0. */
  ttftMs?: number;
  /** Default 1000. `Infinity` or 0: as fast as possible. */
  tokensPerSecond?: number;
  /** Default: `tokenCount` tokens " t0", " t1", … */
  tokens?: TokenSource;
  /** Length of the default token list. Default: the request's max_tokens, else 16. */
  tokenCount?: number;
  fault?: TestServerFault | null;
  /** Requests must carry `Authorization: Bearer <apiKey>`, else 401. */
  apiKey?: string;
  lineEnding?: '\n' | '\r\n';
  /** Send `: keep-alive` comments before the first token and with every batch. */
  keepAliveComments?: boolean;
  /** Model name reported by GET /v1/models. */
  models?: readonly string[];
  /** Scripted chat turns (tool calls); see `TurnScript`. Setting it restarts the script. */
  turns?: TurnScript;
  /** Characters per streamed tool-call arguments fragment. Default 8. */
  toolArgumentChunk?: number;
}

/** Per-request override: JSON of `OpenAITestServerOptions` (tokens as an array) in this header. */
export const TEST_OPTIONS_HEADER = 'x-test-options';

type ResolvedOptions = Required<Omit<OpenAITestServerOptions, 'fault' | 'apiKey' | 'tokenCount' | 'turns'>> & {
  turns: TurnScript | undefined;
  fault: TestServerFault | null;
  apiKey: string | undefined;
  tokenCount: number | undefined;
};

const ASAP_BATCH = 256;

export class OpenAITestServer {
  readonly #server: Server;
  #options: ResolvedOptions;
  readonly #requests: RecordedRequest[] = [];
  readonly #closeWaiters = new Map<number, Array<(r: RecordedRequest) => void>>();
  readonly #requestWaiters: Array<(r: RecordedRequest) => void> = [];
  readonly #timers = new Set<NodeJS.Timeout | NodeJS.Immediate>();
  #nextId = 1;
  #url = '';
  /** Chat requests answered from the current `turns` script. */
  #turnCursor = 0;

  constructor(options: OpenAITestServerOptions = {}) {
    this.#options = resolve(options);
    this.#server = createServer((req, res) => {
      this.#handle(req, res).catch(() => {
        if (!res.headersSent) res.writeHead(500);
        res.end();
      });
    });
    this.#server.keepAliveTimeout = 5000;
  }

  /** Starts listening (port 0 = any free port) and returns the base URL, ending in `/v1`. */
  async listen(port = 0, host = '127.0.0.1'): Promise<string> {
    await new Promise<void>((resolveListen, reject) => {
      this.#server.once('error', reject);
      this.#server.listen(port, host, () => {
        this.#server.off('error', reject);
        resolveListen();
      });
    });
    const address = this.#server.address() as AddressInfo;
    this.#url = `http://${host}:${address.port}/v1`;
    return this.#url;
  }

  get url(): string {
    return this.#url;
  }

  /** Changes the options for requests that arrive from now on. */
  configure(options: OpenAITestServerOptions): void {
    if (options.turns !== undefined) this.#turnCursor = 0;
    this.#options = resolve({ ...this.#options, ...options });
  }

  /** How many chat requests the current turn script has answered. */
  get scriptedTurns(): number {
    return this.#turnCursor;
  }

  get requests(): readonly RecordedRequest[] {
    return this.#requests;
  }

  /** How many requests the client closed before the server finished sending. */
  get closedEarlyCount(): number {
    return this.#requests.filter((r) => r.outcome === 'closed_early').length;
  }

  /** Resolves with the next request to arrive. */
  nextRequest(): Promise<RecordedRequest> {
    return new Promise((resolveNext) => this.#requestWaiters.push(resolveNext));
  }

  /** Resolves once request `id`'s connection/response has closed, for whatever reason. */
  waitForClose(id: number, timeoutMs = 5000): Promise<RecordedRequest> {
    const request = this.#requests.find((r) => r.id === id);
    if (!request) return Promise.reject(new Error(`no request ${id}`));
    if (request.closedAt !== undefined) return Promise.resolve(request);
    return new Promise((resolveClose, reject) => {
      const timer = setTimeout(() => reject(new Error(`request ${id} still open after ${timeoutMs} ms`)), timeoutMs);
      const list = this.#closeWaiters.get(id) ?? [];
      list.push((r) => {
        clearTimeout(timer);
        resolveClose(r);
      });
      this.#closeWaiters.set(id, list);
    });
  }

  async close(): Promise<void> {
    for (const t of this.#timers) {
      clearTimeout(t as NodeJS.Timeout);
      clearImmediate(t as NodeJS.Immediate);
    }
    this.#timers.clear();
    const closed = new Promise<void>((r) => this.#server.close(() => r()));
    this.#server.closeAllConnections();
    await closed;
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const rawBody = await readBody(req);
    const path = (req.url ?? '/').split('?')[0]!;
    if (path.startsWith('/__test/')) return this.#control(path, req, rawBody, res);
    const record: RecordedRequest = {
      id: this.#nextId++,
      method: req.method ?? 'GET',
      path,
      headers: req.headers,
      body: parseJsonObject(rawBody),
      receivedAt: performance.now(),
      remotePort: req.socket.remotePort,
      tokensSent: 0,
      outcome: 'pending',
      closedAt: undefined,
    };
    this.#requests.push(record);
    res.on('close', () => this.#closed(record, res));
    for (const waiter of this.#requestWaiters.splice(0)) waiter(record);
    res.setHeader('x-request-id', String(record.id));

    const options = this.#optionsFor(req);
    if (options === undefined) return sendError(res, 400, `bad ${TEST_OPTIONS_HEADER} header`);
    const endpoint = path.replace(/^\/v1/, '');
    if (req.method === 'GET' && endpoint === '/models') {
      return sendJson(res, 200, { object: 'list', data: options.models.map((id) => ({ id, object: 'model', owned_by: 'test' })) });
    }
    if (req.method !== 'POST' || (endpoint !== '/chat/completions' && endpoint !== '/completions')) {
      return sendError(res, 404, `unknown endpoint ${req.method} ${path}`);
    }
    if (options.apiKey !== undefined && req.headers.authorization !== `Bearer ${options.apiKey}`) {
      return sendError(res, 401, 'Incorrect API key provided.');
    }
    if (!record.body) return sendError(res, 400, 'body must be a JSON object');
    const turn = endpoint === '/chat/completions' ? this.#nextTurn(options, record) : undefined;
    const fault = turn?.fault ?? options.fault;
    if (fault?.kind === 'rate_limit') {
      const headers: Record<string, string> = { 'retry-after': String(fault.retryAfterSeconds ?? 1) };
      if (fault.retryAfterMs !== undefined) headers['retry-after-ms'] = String(fault.retryAfterMs);
      return sendError(res, 429, 'Rate limit reached. Please try again later.', headers);
    }
    if (fault?.kind === 'server_error') return sendError(res, fault.status ?? 500, 'The server had an error while processing your request.');
    if (fault?.kind === 'auth') return sendError(res, fault.status ?? 401, 'Incorrect API key provided.');
    this.#stream(record, endpoint === '/chat/completions' ? 'chat' : 'completions', { ...options, fault }, res, turn);
  }

  #nextTurn(options: ResolvedOptions, record: RecordedRequest): ScriptedTurn | undefined {
    const script = options.turns;
    if (script === undefined) return undefined;
    const n = this.#turnCursor++;
    return typeof script === 'function' ? script(record, n) : script[n];
  }

  #stream(record: RecordedRequest, kind: 'chat' | 'completions', options: ResolvedOptions, res: ServerResponse, turn?: ScriptedTurn): void {
    const body = record.body!;
    const maxTokens = typeof body.max_tokens === 'number' ? body.max_tokens
      : typeof body.max_completion_tokens === 'number' ? body.max_completion_tokens : undefined;
    let all: readonly Unit[];
    if (turn) {
      all = turnUnits(turn, options.toolArgumentChunk, record.id);
    } else {
      const source = typeof options.tokens === 'function' ? options.tokens(record) : options.tokens;
      all = source.length > 0 ? source : defaultTokens(options.tokenCount ?? maxTokens ?? 16);
    }
    const tokens = maxTokens !== undefined && all.length > maxTokens && !turn?.toolCalls?.length ? all.slice(0, maxTokens) : all;
    const finishReason = turn?.toolCalls?.length ? 'tool_calls' : tokens.length < all.length ? 'length' : 'stop';
    const stops = Array.isArray(body.stop) ? body.stop.filter((s): s is string => typeof s === 'string') : typeof body.stop === 'string' ? [body.stop] : [];
    const includeUsage = (body.stream_options as { include_usage?: unknown } | undefined)?.include_usage === true;
    const eol = options.lineEnding;
    const model = typeof body.model === 'string' ? body.model : 'test-model';
    const created = Math.floor(Date.now() / 1000);
    const head = kind === 'chat'
      ? `data: {"id":"chatcmpl-${record.id}","object":"chat.completion.chunk","created":${created},"model":${JSON.stringify(model)},"choices":[{"index":0,"delta":{"content":`
      : `data: {"id":"cmpl-${record.id}","object":"text_completion","created":${created},"model":${JSON.stringify(model)},"choices":[{"index":0,"text":`;
    const tail = kind === 'chat' ? `},"finish_reason":null}]}${eol}${eol}` : `,"finish_reason":null}]}${eol}${eol}`;
    const event = (token: string): string => head + JSON.stringify(token) + tail;
    const toolEvent = (fragment: Record<string, unknown>): string =>
      `data: {"id":"chatcmpl-${record.id}","object":"chat.completion.chunk","created":${created},"model":${JSON.stringify(model)},"choices":[{"index":0,"delta":{"tool_calls":[${JSON.stringify(fragment)}]},"finish_reason":null}]}${eol}${eol}`;
    const fault = options.fault;
    const faultAt = fault && fault.kind !== 'rate_limit' && fault.kind !== 'server_error' && fault.kind !== 'auth' ? Math.min(fault.afterTokens ?? 0, tokens.length) : -1;
    const stop = new StopMatcher(stops);

    res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache', connection: 'keep-alive' });
    if (kind === 'chat') {
      res.write(`data: {"id":"chatcmpl-${record.id}","object":"chat.completion.chunk","created":${created},"model":${JSON.stringify(model)},"choices":[{"index":0,"delta":{"role":"assistant","content":""},"finish_reason":null}]}${eol}${eol}`);
    } else {
      res.flushHeaders();
    }
    if (options.keepAliveComments) res.write(`: keep-alive${eol}${eol}`);

    let sent = 0;
    let startedAt = 0;
    let ended = false;
    const asap = !(options.tokensPerSecond > 0 && Number.isFinite(options.tokensPerSecond));
    const finish = (reason: string): void => {
      ended = true;
      const held = stop.flush();
      let out = held.length > 0 ? event(held) : '';
      out += kind === 'chat'
        ? `data: {"id":"chatcmpl-${record.id}","object":"chat.completion.chunk","created":${created},"model":${JSON.stringify(model)},"choices":[{"index":0,"delta":{},"finish_reason":"${reason}"}]}${eol}${eol}`
        : `data: {"id":"cmpl-${record.id}","object":"text_completion","created":${created},"model":${JSON.stringify(model)},"choices":[{"index":0,"text":"","finish_reason":"${reason}"}]}${eol}${eol}`;
      if (includeUsage) {
        const usage = { prompt_tokens: promptTokenEstimate(body), completion_tokens: sent, total_tokens: promptTokenEstimate(body) + sent };
        out += `data: {"id":"x-${record.id}","choices":[],"usage":${JSON.stringify(usage)}}${eol}${eol}`;
      }
      out += `data: [DONE]${eol}${eol}`;
      res.end(out);
    };
    const applyFault = (): void => {
      ended = true;
      switch (fault!.kind) {
        case 'stall':
          return; // hold silent; close() or the client ends it
        case 'malformed':
          res.end(`data: {"choices":[{"index":0,"delta":{"content":"unterminated${eol}${eol}`);
          return;
        case 'drop':
          // end() flushes the tokens already written, then closes the socket mid-response
          // (no terminating chunk, no [DONE]); destroy() would discard them unsent.
          record.outcome = 'dropped_by_server';
          res.socket?.end();
          return;
        case 'error_event':
          res.end(`data: {"error":{"message":"The model is overloaded.","type":"server_error"}}${eol}${eol}data: [DONE]${eol}${eol}`);
          return;
        default:
          return;
      }
    };
    /** Writes tokens [sent, due) as one string; returns false once the stream is over. */
    const emitUntil = (due: number): boolean => {
      let out = options.keepAliveComments ? `: keep-alive${eol}${eol}` : '';
      while (sent < due) {
        if (sent === faultAt) break;
        const unit = tokens[sent]!;
        if (typeof unit === 'string') {
          const visible = stop.feed(unit);
          if (visible.length > 0) out += event(visible);
        } else {
          out += toolEvent(unit.tool);
        }
        sent++;
        record.tokensSent = sent;
        if (stop.matched) break;
      }
      if (out.length > 0) res.write(out);
      if (sent === faultAt) {
        applyFault();
        return false;
      }
      if (stop.matched || sent >= tokens.length) {
        finish(stop.matched ? 'stop' : finishReason);
        return false;
      }
      return true;
    };
    const tickPaced = (): void => {
      if (ended || res.destroyed) return;
      const elapsed = performance.now() - startedAt;
      // Token i is due at i/rate seconds after the first one.
      const due = Math.min(tokens.length, Math.floor((elapsed * options.tokensPerSecond) / 1000) + 1);
      if (!emitUntil(due)) return;
      const nextDueAt = startedAt + (sent * 1000) / options.tokensPerSecond;
      this.#after(Math.max(0, nextDueAt - performance.now()), tickPaced);
    };
    const tickAsap = (): void => {
      if (ended || res.destroyed) return;
      if (!emitUntil(Math.min(tokens.length, sent + ASAP_BATCH))) return;
      if (res.writableNeedDrain) res.once('drain', tickAsap);
      else this.#immediate(tickAsap);
    };
    const begin = (): void => {
      if (res.destroyed) return;
      startedAt = performance.now();
      if (faultAt === 0) {
        applyFault();
        return;
      }
      if (asap) tickAsap();
      else tickPaced();
    };
    if (options.ttftMs > 0) this.#after(options.ttftMs, begin);
    else begin();
  }

  #control(path: string, req: IncomingMessage, rawBody: string, res: ServerResponse): void {
    if (path === '/__test/requests' && req.method === 'GET') {
      return sendJson(res, 200, { requests: this.#requests, closedEarlyCount: this.closedEarlyCount });
    }
    if (path === '/__test/configure' && req.method === 'POST') {
      const parsed = parseJsonObject(rawBody);
      if (!parsed) return sendError(res, 400, 'body must be a JSON object');
      this.configure(parsed as OpenAITestServerOptions);
      return sendJson(res, 200, { ok: true });
    }
    sendError(res, 404, `unknown control endpoint ${path}`);
  }

  #optionsFor(req: IncomingMessage): ResolvedOptions | undefined {
    const header = req.headers[TEST_OPTIONS_HEADER];
    if (typeof header !== 'string') return this.#options;
    const parsed = parseJsonObject(header);
    return parsed ? resolve({ ...this.#options, ...(parsed as OpenAITestServerOptions) }) : undefined;
  }

  #closed(record: RecordedRequest, res: ServerResponse): void {
    record.closedAt = performance.now();
    if (record.outcome === 'pending') record.outcome = res.writableFinished ? 'completed' : 'closed_early';
    const waiters = this.#closeWaiters.get(record.id);
    this.#closeWaiters.delete(record.id);
    for (const w of waiters ?? []) w(record);
  }

  #after(ms: number, fn: () => void): void {
    const t = setTimeout(() => {
      this.#timers.delete(t);
      fn();
    }, ms);
    this.#timers.add(t);
  }

  #immediate(fn: () => void): void {
    const t = setImmediate(() => {
      this.#timers.delete(t);
      fn();
    });
    this.#timers.add(t);
  }
}

/**
 * Applies stop sequences the way servers do: output ends before the first match, and text that
 * could be the start of a stop sequence is held back until it is known not to be one.
 */
class StopMatcher {
  readonly #stops: readonly string[];
  #pending = '';
  matched = false;

  constructor(stops: readonly string[]) {
    this.#stops = stops.filter((s) => s.length > 0);
  }

  /** Returns the text that may be emitted now. */
  feed(token: string): string {
    if (this.#stops.length === 0) return token;
    const text = this.#pending + token;
    let cut = -1;
    for (const s of this.#stops) {
      const i = text.indexOf(s);
      if (i !== -1 && (cut === -1 || i < cut)) cut = i;
    }
    if (cut !== -1) {
      this.matched = true;
      this.#pending = '';
      return text.slice(0, cut);
    }
    const hold = this.#heldBack(text);
    this.#pending = text.slice(text.length - hold);
    return text.slice(0, text.length - hold);
  }

  /** Held-back text, released when the stream ends without a match. */
  flush(): string {
    const rest = this.#pending;
    this.#pending = '';
    return rest;
  }

  /** Length of the longest suffix of `text` that is a proper prefix of some stop sequence. */
  #heldBack(text: string): number {
    let best = 0;
    for (const s of this.#stops) {
      for (let n = Math.min(s.length - 1, text.length); n > best; n--) {
        if (text.endsWith(s.slice(0, n))) {
          best = n;
          break;
        }
      }
    }
    return best;
  }
}

/** A text token, or one `delta.tool_calls[0]` fragment. */
type Unit = string | { tool: Record<string, unknown> };

function turnUnits(turn: ScriptedTurn, argumentChunk: number, requestId: number): Unit[] {
  const units: Unit[] = [];
  const content = turn.content ?? [];
  if (typeof content === 'string') {
    for (let i = 0; i < content.length; i += 4) units.push(content.slice(i, i + 4));
  } else {
    units.push(...content);
  }
  for (const [index, call] of (turn.toolCalls ?? []).entries()) {
    const id = call.id ?? `call_${requestId}_${index}`;
    units.push({ tool: { index, id, type: 'function', function: { name: call.name, arguments: '' } } });
    for (let i = 0; i < call.arguments.length; i += argumentChunk) {
      units.push({ tool: { index, function: { arguments: call.arguments.slice(i, i + argumentChunk) } } });
    }
  }
  return units;
}

function resolve(options: OpenAITestServerOptions): ResolvedOptions {
  return {
    turns: options.turns,
    toolArgumentChunk: Math.max(1, options.toolArgumentChunk ?? 8),
    ttftMs: options.ttftMs ?? 0,
    tokensPerSecond: options.tokensPerSecond ?? 1000,
    tokens: options.tokens ?? [],
    tokenCount: options.tokenCount,
    fault: options.fault ?? null,
    apiKey: options.apiKey,
    lineEnding: options.lineEnding ?? '\n',
    keepAliveComments: options.keepAliveComments ?? false,
    models: options.models ?? ['test-model'],
  };
}

function defaultTokens(count: number): Unit[] {
  return Array.from({ length: count }, (_, i) => ` t${i}`);
}

function promptTokenEstimate(body: Record<string, unknown>): number {
  const text = JSON.stringify(body.messages ?? body.prompt ?? '') + (typeof body.suffix === 'string' ? body.suffix : '');
  return Math.max(1, Math.ceil(text.length / 4));
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolveBody, reject) => {
    const parts: Buffer[] = [];
    req.on('data', (c: Buffer) => parts.push(c));
    req.on('end', () => resolveBody(Buffer.concat(parts).toString('utf8')));
    req.on('error', reject);
  });
}

function parseJsonObject(text: string): Record<string, unknown> | undefined {
  try {
    const v: unknown = JSON.parse(text);
    return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify(body));
}

function sendError(res: ServerResponse, status: number, message: string, headers: Record<string, string> = {}): void {
  sendJson(res, status, { error: { message, type: status === 429 ? 'rate_limit_exceeded' : 'invalid_request_error', code: null } }, headers);
}
