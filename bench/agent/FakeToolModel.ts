/**
 * An OpenAI-compatible chat endpoint in the benchmark's own process that plays a scripted agent:
 * each turn streams ~60 text tokens, every 6th one a marker `⟦n⟧` whose emit time is recorded,
 * then one tool call (list_files, read_file, search, edit_file in turn; `finish` on the last
 * turn of each run of `turns` requests) in 16-character argument fragments, paced at `rate` tokens/s. It also sums its own time
 * per request (request body read → response ended): the model's share of the run's wall time.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

const TEXT_TOKENS = 60;

export class FakeToolModel {
  readonly #server: Server;
  readonly emittedAt = new Map<number, number>();
  modelTimeMs = 0;
  /** Each request's span on the bench's clock (request body read → answer ended), in order. */
  readonly requests: Array<{ begun: number; ended: number }> = [];
  /** TCP connections Tandem opened to the model (a kept-alive pool reuses one across turns). */
  connections = 0;
  #turn = 0;
  #marker = 0;

  constructor(readonly turns: number, readonly rate: number) {
    this.#server = createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        if (req.method !== 'POST' || !req.url?.endsWith('/chat/completions')) {
          res.writeHead(404).end();
          return;
        }
        const begun = performance.now();
        const n = this.#turn++;
        const events = this.#events(n);
        res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
        let sent = 0;
        const tick = () => {
          if (res.destroyed) return;
          const due = Math.min(events.length, Math.floor(((performance.now() - begun) * this.rate) / 1000) + 1);
          let out = '';
          while (sent < due) {
            const e = events[sent++]!;
            if (e.marker !== undefined) this.emittedAt.set(e.marker, performance.now());
            out += `data: ${JSON.stringify(e.payload)}\n\n`;
            if (e.marker !== undefined) {
              res.write(out);
              out = '';
            }
          }
          if (out) res.write(out);
          if (sent < events.length) {
            setTimeout(tick, Math.max(0, begun + (sent * 1000) / this.rate - performance.now()));
            return;
          }
          res.end(`data: {"choices":[{"index":0,"delta":{},"finish_reason":"tool_calls"}]}\n\ndata: {"choices":[],"usage":{"prompt_tokens":1000,"completion_tokens":${events.length}}}\n\ndata: [DONE]\n\n`);
          const ended = performance.now();
          this.modelTimeMs += ended - begun;
          this.requests.push({ begun, ended });
        };
        tick();
      });
    });
    this.#server.on('connection', () => this.connections++);
  }

  #events(turn: number): Array<{ payload: unknown; marker?: number }> {
    const out: Array<{ payload: unknown; marker?: number }> = [];
    for (let i = 0; i < TEXT_TOKENS; i++) {
      const marker = i % 6 === 0 ? this.#marker++ : undefined;
      const text = marker !== undefined ? `⟦${marker}⟧` : ` w${i}`;
      out.push({ payload: { choices: [{ index: 0, delta: { content: text } }] }, ...(marker !== undefined ? { marker } : {}) });
    }
    // `turn` counts every request; runs follow one another, `turns` requests each.
    const f = turn * 37 % 1000;
    const file = `src/m${Math.floor(f / 50)}/file${f}.js`;
    const inRun = turn % this.turns;
    const kinds = ['list_files', 'read_file', 'search', 'edit_file'] as const;
    const name = inRun === this.turns - 1 ? 'finish' : kinds[inRun % 4]!;
    const args = JSON.stringify(
      name === 'finish' ? { summary: 'done' }
        : name === 'list_files' ? { folder: `src/m${turn % 20}` }
          : name === 'read_file' ? { path: file }
            : name === 'search' ? { pattern: `v${f}_1[0-9]\\b` }
              : { path: file, edits: [{ search: `= 3; // line 3 of file ${f}`, replace: `= 3000; // line 3 of file ${f}, edited` }] },
    );
    out.push({ payload: { choices: [{ index: 0, delta: { tool_calls: [{ index: 0, id: `call_${turn}`, type: 'function', function: { name, arguments: '' } }] } }] } });
    for (let i = 0; i < args.length; i += 16) {
      out.push({ payload: { choices: [{ index: 0, delta: { tool_calls: [{ index: 0, function: { arguments: args.slice(i, i + 16) } }] } }] } });
    }
    return out;
  }

  async listen(): Promise<string> {
    await new Promise<void>((resolve) => this.#server.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}/v1`;
  }

  close(): Promise<void> {
    this.#server.closeAllConnections();
    return new Promise((resolve) => this.#server.close(() => resolve()));
  }
}
