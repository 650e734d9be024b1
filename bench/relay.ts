/**
 * Relay benchmark: what Tandem's inference relay adds between a model streaming at 1,000-3,000+
 * tokens/s and the browser tab. The OpenAI test double (TTFT 0, paced) and the real Tandem
 * server (API only) run as child processes; this process is both clients:
 * - direct: reads the test double itself (the baseline: the model's own latency);
 * - relayed: a tab subscribed to `stream.events` on Tandem, completion started by `ai.complete`.
 * The test double sends token i at (its stream start) + i/rate. A token's lateness is its arrival
 * minus that time, expressed in this process's clock: for the direct stream the start is when
 * this process sent the request (so lateness includes the loopback hop); for the relayed stream
 * it is the same anchor shifted by the gap between the two requests' arrival at the test double
 * (its /__test/requests record), so both carry the same hop and "added" = relayed − direct is
 * the per-token cost of the relay alone. TTFT (request start → first token at the client) is
 * reported separately and includes the relay's request setup (auth, membership, upstream call).
 * The ceiling sweep raises the rate until the relayed stream delivers < 98% of the offered rate.
 *
 * Run: `npm run bench -w @tandem/bench -- relay` (~1 min).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DirectClient, RelayClient, type Arrivals } from './relay/clients.ts';
import { startTandem, startTestServer, type Child } from './relay/processes.ts';

const LATENCY_RATES = [1000, 3000];
const LATENCY_STREAM_S = 1;
const REPEATS = 3;
const CEILING_RATES = [5000, 10_000, 20_000, 40_000, 80_000, 160_000, 320_000];
const CEILING_STREAM_S = 1;
const KEEPS_UP = 0.98;
const GOAL_P99_MS = 5;
const GOAL_CEILING = 20_000;
/** Time to first token: short streams, direct and relayed alternating (issue 16: added ≤ 2 ms p50, ≤ 5 ms p99). */
const TTFT_SAMPLES = 60;
const TTFT_TOKENS = 5;
const GOAL_TTFT_ADDED_P50_MS = 2;
const GOAL_TTFT_ADDED_P99_MS = 5;

interface Run {
  startedAt: number;
  arrivals: Arrivals;
}

export async function runRelayBenchmark(): Promise<void> {
  const dataDir = await mkdtemp(join(tmpdir(), 'tandem-relay-bench-'));
  let upstream: Child | null = null;
  let tandem: Child | null = null;
  let relay: RelayClient | null = null;
  try {
    upstream = await startTestServer();
    tandem = await startTandem(upstream.url, dataDir);
    relay = await RelayClient.open(tandem.url);
    const direct = new DirectClient(upstream.url);
    const control = new URL(upstream.url).origin;
    const configure = (body: object) => fetch(`${control}/__test/configure`, { method: 'POST', body: JSON.stringify(body) });
    /** When the test double received its last two requests (direct, then relayed), in its own clock. */
    const lastTwoRequestTimes = async (): Promise<[number, number]> => {
      const { requests } = (await (await fetch(`${control}/__test/requests`)).json()) as { requests: { path: string; receivedAt: number }[] };
      const streams = requests.filter((q) => q.path === '/v1/completions');
      return [streams.at(-2)!.receivedAt, streams.at(-1)!.receivedAt];
    };
    console.log('\n# Relay benchmark: test double (TTFT 0) → Tandem server → SSE tab, vs a client reading the test double directly');
    console.log('(3 processes on this machine: test double, Tandem server, clients; lateness = arrival − when the test double sent the token)\n');

    // Warm both paths (JIT, keep-alive connections, the database's first queries).
    await configure({ tokensPerSecond: 10_000, tokenCount: 2000 });
    for (let i = 0; i < 3; i++) {
      await direct.stream(2000, 10_000);
      await relay.stream(2000, 10_000);
    }

    const latencyRows: string[][] = [];
    const addedP99 = new Map<number, number>();
    for (const rate of LATENCY_RATES) {
      const tokens = rate * LATENCY_STREAM_S;
      await configure({ tokensPerSecond: rate, tokenCount: tokens });
      const d: number[] = [];
      const r: number[] = [];
      const dFirst: number[] = [];
      const rFirst: number[] = [];
      let events = 0;
      for (let k = 0; k < REPEATS; k++) {
        const a = await direct.stream(tokens, 30_000);
        const b = await relay.stream(tokens, 30_000);
        const [directReceived, relayedReceived] = await lastTwoRequestTimes();
        // The relayed stream's schedule in this process's clock: the test double started it
        // (relayedReceived − directReceived) after it started the direct one, whose start is
        // this process's send time plus the same loopback latency the direct client has.
        const relayedSchedule = { startedAt: a.startedAt + (relayedReceived - directReceived), arrivals: b.arrivals };
        d.push(...lateness(a, rate));
        r.push(...lateness(relayedSchedule, rate));
        dFirst.push(a.arrivals[0]! - a.startedAt);
        rFirst.push(b.arrivals[0]! - b.startedAt);
        events += distinctArrivals(b.arrivals);
      }
      const [d50, d99, r50, r99] = [pct(d, 0.5), pct(d, 0.99), pct(r, 0.5), pct(r, 0.99)];
      addedP99.set(rate, r99 - d99);
      latencyRows.push([
        fmtRate(rate), String(tokens * REPEATS),
        ms(median(dFirst)), ms(median(rFirst)),
        ms(d50), ms(r50), ms(r50 - d50),
        ms(d99), ms(r99), ms(r99 - d99),
        (tokens * REPEATS / events).toFixed(1),
      ]);
    }
    console.log('## Added latency per token (same run; medians over', REPEATS, 'streams per row for TTFT)');
    table(['rate', 'tokens', 'TTFT direct', 'TTFT relayed', 'p50 direct', 'p50 relayed', 'p50 added', 'p99 direct', 'p99 relayed', 'p99 added', 'tokens/event'], latencyRows);

    // TTFT: pairs (direct, relayed) back to back; the added time is relayed − direct per pair, so
    // a pair shares the machine's momentary load.
    await configure({ tokensPerSecond: 1000, tokenCount: TTFT_TOKENS });
    const ttftDirect: number[] = [];
    const ttftRelayed: number[] = [];
    const ttftAdded: number[] = [];
    for (let k = 0; k < TTFT_SAMPLES; k++) {
      const a = await direct.stream(TTFT_TOKENS, 10_000);
      const b = await relay.stream(TTFT_TOKENS, 10_000);
      ttftDirect.push(a.arrivals[0]! - a.startedAt);
      ttftRelayed.push(b.arrivals[0]! - b.startedAt);
      ttftAdded.push(ttftRelayed.at(-1)! - ttftDirect.at(-1)!);
    }
    const [added50, added99] = [pct(ttftAdded, 0.5), pct(ttftAdded, 0.99)];
    console.log(`\n## Time to first token (${TTFT_SAMPLES} pairs of ${TTFT_TOKENS}-token completions: direct, then relayed)`);
    table(['', 'p50', 'p99', 'goal'], [
      ['direct (the model itself)', ms(pct(ttftDirect, 0.5)), ms(pct(ttftDirect, 0.99)), ''],
      ['relayed through Tandem', ms(pct(ttftRelayed, 0.5)), ms(pct(ttftRelayed, 0.99)), ''],
      ['added by Tandem (per pair)', ms(added50), ms(added99), `≤ ${GOAL_TTFT_ADDED_P50_MS} / ≤ ${GOAL_TTFT_ADDED_P99_MS}`],
    ]);

    const ceilingRows: string[][] = [];
    let ceiling = 0;
    for (const rate of CEILING_RATES) {
      const tokens = rate * CEILING_STREAM_S;
      await configure({ tokensPerSecond: rate, tokenCount: tokens });
      const a = await direct.stream(tokens, 60_000);
      const b = await relay.stream(tokens, 60_000);
      const [dRate, rRate] = [deliveredRate(a, tokens), deliveredRate(b, tokens)];
      const keepsUp = rRate >= KEEPS_UP * rate;
      if (keepsUp) ceiling = rate;
      ceilingRows.push([
        fmtRate(rate), fmtRate(dRate), fmtRate(rRate), `${((rRate / rate) * 100).toFixed(1)}%`, `${((rRate / dRate) * 100).toFixed(1)}%`,
        ms(b.arrivals[tokens - 1]! - b.startedAt - (a.arrivals[tokens - 1]! - a.startedAt)), String(distinctArrivals(b.arrivals)), keepsUp ? 'yes' : 'NO',
      ]);
      if (!keepsUp) break;
    }
    console.log(`\n## Relay ceiling (one stream of ${CEILING_STREAM_S} s per rate; keeps up = relayed ≥ ${KEEPS_UP * 100}% of offered)`);
    table(['offered', 'direct tok/s', 'relayed tok/s', 'relayed/offered', 'relayed/direct', 'last token later by', 'SSE events', 'keeps up'], ceilingRows);

    const at3000 = addedP99.get(3000)!;
    console.log(`\nGoals: p99 added at 3,000 tok/s ≤ ${GOAL_P99_MS} ms → ${ms(at3000)} ms ${at3000 <= GOAL_P99_MS ? 'MET' : 'NOT MET'}; `
      + `ceiling ≥ ${fmtRate(GOAL_CEILING)} tok/s per stream → ${ceiling === CEILING_RATES.at(-1) ? '≥ ' : ''}${fmtRate(ceiling)} tok/s ${ceiling >= GOAL_CEILING ? 'MET' : 'NOT MET'}; `
      + `TTFT added p50 ≤ ${GOAL_TTFT_ADDED_P50_MS} ms → ${ms(added50)} ms ${added50 <= GOAL_TTFT_ADDED_P50_MS ? 'MET' : 'NOT MET'}, `
      + `p99 ≤ ${GOAL_TTFT_ADDED_P99_MS} ms → ${ms(added99)} ms ${added99 <= GOAL_TTFT_ADDED_P99_MS ? 'MET' : 'NOT MET'}`);
  } finally {
    relay?.close();
    await tandem?.stop();
    await upstream?.stop();
    await rm(dataDir, { recursive: true, force: true });
  }
}

/** Each token's arrival minus when the test double was scheduled to send it (from the request start). */
function lateness(run: Run, rate: number): number[] {
  const out = new Array<number>(run.arrivals.length);
  for (let i = 0; i < run.arrivals.length; i++) out[i] = run.arrivals[i]! - run.startedAt - (i * 1000) / rate;
  return out;
}

/** Tokens per second between the first and the last arrival (TTFT excluded). */
function deliveredRate(run: Run, tokens: number): number {
  const first = run.arrivals[0]!;
  const firstBatch = run.arrivals.filter((t) => t === first).length;
  const span = run.arrivals[tokens - 1]! - first;
  return span > 0 ? ((tokens - firstBatch) * 1000) / span : Infinity;
}

function distinctArrivals(arrivals: Arrivals): number {
  let n = 0;
  for (let i = 0; i < arrivals.length; i++) if (i === 0 || arrivals[i] !== arrivals[i - 1]) n++;
  return n;
}

function pct(values: number[], q: number): number {
  const sorted = Float64Array.from(values).sort();
  return sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)]!;
}

function median(values: number[]): number {
  return pct(values, 0.5);
}

const ms = (v: number) => (Number.isFinite(v) ? v.toFixed(2) : '∞');
const fmtRate = (v: number) => (Number.isFinite(v) ? Math.round(v).toLocaleString('en-US') : '∞');

function table(header: string[], rows: string[][]): void {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => c.padStart(widths[i]!)).join(' | ')} |`;
  console.log(line(header));
  console.log(`|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`);
  for (const r of rows) console.log(line(r));
}
