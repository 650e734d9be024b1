/**
 * One participant of the session as a browser tab sees it (../session.ts: a session cookie, one
 * `stream.events` SSE subscription). For the suggestion being measured it records, per token, when
 * the frame completing that token was read.
 */
import { signUp, subscribeEvents, trpcCall, type StreamEvent } from '../session.ts';

export interface Tracking {
  /** performance.now() when each token's last character arrived (0: not yet). */
  arrivals: Float64Array;
  frames: number;
  bytes: number;
  finished: Promise<void>;
}

interface Tracked extends Tracking {
  /** null: the next suggestion that streams (its id is not known before the request returns). */
  id: string | null;
  ends: Uint32Array;
  next: number;
  finish: () => void;
}

export class Participant {
  readonly #abort = new AbortController();
  #tracked: Tracked | null = null;
  /** Status snapshots seen, by suggestion id (the last one wins). */
  readonly statuses = new Map<string, string>();

  private constructor(readonly baseUrl: string, readonly cookie: string, readonly name: string) {}

  static async signUp(baseUrl: string, name: string): Promise<Participant> {
    return new Participant(baseUrl, await signUp(baseUrl, name), name);
  }

  call<T = unknown>(path: string, input: unknown): Promise<T> {
    return trpcCall<T>(this.baseUrl, this.cookie, path, input);
  }

  /** Opens the tab's event stream; resolves once the server says it is connected. */
  subscribe(projectId: string): Promise<void> {
    return subscribeEvents(this.baseUrl, this.cookie, projectId, this.#abort.signal, (event, at, bytes) => this.#event(event, at, bytes));
  }

  /** Records arrivals of the tokens (ending at `ends`) of the next suggestion to stream. */
  track(ends: Uint32Array): Tracking {
    let finish!: () => void;
    const finished = new Promise<void>((r) => (finish = r));
    const tracked: Tracked = { id: null, ends, next: 0, arrivals: new Float64Array(ends.length), frames: 0, bytes: 0, finished, finish };
    this.#tracked = tracked;
    return tracked;
  }

  close(): void {
    this.#abort.abort();
  }

  #event(event: StreamEvent, at: number, bytes: number): void {
    const data = event.data as { id: string; status?: string; offset?: number; text?: string } | undefined;
    if (!data) return;
    if (event.type === 'suggestion' && data.status) this.statuses.set(data.id, data.status);
    const t = this.#tracked;
    if (event.type !== 'suggestion.frame' || !t) return;
    t.id ??= data.id;
    if (data.id !== t.id) return;
    t.frames++;
    t.bytes += bytes;
    const received = data.offset! + data.text!.length;
    while (t.next < t.ends.length && t.ends[t.next]! <= received) t.arrivals[t.next++] = at;
    if (t.next === t.ends.length) t.finish();
  }
}
