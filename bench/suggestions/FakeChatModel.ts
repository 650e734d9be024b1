/**
 * An OpenAI-compatible chat endpoint in the benchmark's own process, so the time each token is
 * EMITTED (handed to the socket) and the time it ARRIVES at a participant are read from the
 * same clock. Token i is due at start + i/rate; every timer tick writes each due token as its
 * own SSE event (as real servers do, one delta per event) and records its emit time.
 *
 * Tokens are distinct, newline-free at their end (a trailing newline or backtick would be held
 * back by the fence stripper until the next token, which is behaviour, not latency) and of known
 * length, so a participant maps the length of the code it has received back to token indices.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export function benchToken(i: number): string {
  return `${i % 12 === 11 ? '\n' : ''}w${i.toString(36).padStart(4, '0')} `;
}

/** End offset (exclusive) of each token in the concatenated output. */
export function tokenEnds(count: number): Uint32Array {
  const ends = new Uint32Array(count);
  let at = 0;
  for (let i = 0; i < count; i++) ends[i] = at += benchToken(i).length;
  return ends;
}

interface Plan {
  tokens: number;
  rate: number;
  emittedAt: Float64Array;
  done: () => void;
}

export class FakeChatModel {
  readonly #server: Server;
  #plan: Plan | null = null;
  #url = '';

  constructor() {
    this.#server = createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        const plan = this.#plan;
        if (!plan || req.method !== 'POST' || !req.url?.endsWith('/chat/completions')) {
          res.writeHead(404).end();
          return;
        }
        this.#plan = null;
        res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
        res.write('data: {"choices":[{"index":0,"delta":{"role":"assistant","content":""}}]}\n\n');
        let sent = 0;
        let closed = false;
        res.on('close', () => (closed = true));
        const startedAt = performance.now();
        const tick = () => {
          if (closed) return plan.done();
          const due = Math.min(plan.tokens, Math.floor(((performance.now() - startedAt) * plan.rate) / 1000) + 1);
          while (sent < due) {
            const event = `data: {"choices":[{"index":0,"delta":{"content":${JSON.stringify(benchToken(sent))}}}]}\n\n`;
            plan.emittedAt[sent] = performance.now();
            res.write(event);
            sent++;
          }
          if (sent < plan.tokens) {
            setTimeout(tick, Math.max(0, startedAt + (sent * 1000) / plan.rate - performance.now()));
            return;
          }
          res.end('data: {"choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}\n\ndata: [DONE]\n\n');
          plan.done();
        };
        tick();
      });
    });
  }

  async listen(): Promise<string> {
    await new Promise<void>((resolve) => this.#server.listen(0, '127.0.0.1', resolve));
    this.#url = `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}/v1`;
    return this.#url;
  }

  /** The next chat request streams `tokens` tokens at `rate` tok/s; resolves with their emit times once all are sent. */
  expect(tokens: number, rate: number): Promise<Float64Array> {
    return new Promise((resolve) => {
      const emittedAt = new Float64Array(tokens);
      this.#plan = { tokens, rate, emittedAt, done: () => resolve(emittedAt) };
    });
  }

  async close(): Promise<void> {
    this.#server.closeAllConnections();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }
}
