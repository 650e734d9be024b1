import { randomBytes } from 'node:crypto';
import { AppError, type ProjectStreamEventName, type ProjectStreamEvents } from '@tandem/protocol';

/**
 * Fan-out of live events to browser tabs. Each tab holds ONE subscription (SSE) listening on its
 * project's channel (suggestions, runs, terminals: everyone sees them) and its own private tab
 * channel (the typist's completions). Events get ids `<epoch>.<seq>` from one per-process sequence,
 * so a reconnecting tab resumes after the last id it saw; if that id is from another process or
 * already out of the replay buffer, it gets a `resync` event and refetches state.
 *
 * With several nodes, `bus` carries published events to the other nodes (Redis pub/sub); each node
 * numbers what it receives itself.
 */
export interface HubEvent {
  id: string;
  channel: string;
  type: string;
  data: unknown;
}

export interface EventBus {
  publish(message: { channel: string; type: string; data: unknown }): void;
  onMessage(handler: (message: { channel: string; type: string; data: unknown }) => void): void;
}

export const projectChannel = (projectId: string) => `project:${projectId}`;
export const tabChannel = (userId: string, tabId: string) => `tab:${userId}:${tabId}`;

interface Subscriber {
  channels: Set<string>;
  projectId: string;
  userId: string;
  /** The session or token the stream was opened with (closed when it ends). */
  credentialId: string | undefined;
  push(e: HubEvent): void;
  end(error?: AppError): void;
}

export class EventHub {
  private readonly epoch = randomBytes(4).toString('hex');
  private seq = 0;
  private readonly buffers = new Map<string, HubEvent[]>();
  /** When each channel last got an event: idle channels' replay buffers are dropped. */
  private readonly lastActive = new Map<string, number>();
  private lastSweep = Date.now();
  private readonly subscribers = new Set<Subscriber>();

  constructor(
    private readonly opts: { replayPerChannel?: number; replayRetentionMs?: number; maxQueuedPerSubscriber?: number; bus?: EventBus } = {},
  ) {
    opts.bus?.onMessage((m) => this.deliver(m.channel, m.type, m.data));
  }

  /** Publishes to every subscriber of `channel` on every node: only events the stream's map names, with their payload. */
  publish<K extends ProjectStreamEventName>(channel: string, type: K, data: ProjectStreamEvents[K]): void {
    if (this.opts.bus) this.opts.bus.publish({ channel, type, data });
    else this.deliver(channel, type, data);
  }

  private deliver(channel: string, type: string, data: unknown): void {
    const event: HubEvent = { id: `${this.epoch}.${++this.seq}`, channel, type, data };
    let buf = this.buffers.get(channel);
    if (!buf) this.buffers.set(channel, (buf = []));
    buf.push(event);
    if (buf.length > (this.opts.replayPerChannel ?? 2000)) buf.splice(0, buf.length >> 1);
    for (const s of this.subscribers) if (s.channels.has(channel)) s.push(event);
    const now = Date.now();
    this.lastActive.set(channel, now);
    if (now - this.lastSweep > 60_000) this.sweep(now);
  }

  /**
   * Drops replay buffers of channels idle for longer than `replayRetentionMs` (default 10 min) that
   * nobody listens to: tabs come and go, and their buffers must not pile up. A client resuming
   * after that long gets `resync`.
   */
  sweep(now = Date.now()): void {
    this.lastSweep = now;
    const retention = this.opts.replayRetentionMs ?? 10 * 60_000;
    const listened = new Set<string>();
    for (const s of this.subscribers) for (const c of s.channels) listened.add(c);
    for (const [channel, at] of this.lastActive) {
      if (now - at > retention && !listened.has(channel)) {
        this.buffers.delete(channel);
        this.lastActive.delete(channel);
      }
    }
  }

  /** Channels holding replay buffers (for tests and metrics). */
  bufferedChannels(): number {
    return this.buffers.size;
  }

  /** Ends `userId`'s subscriptions on `projectId` (membership removed). */
  revoke(projectId: string, userId: string): void {
    for (const s of this.subscribers) {
      if (s.projectId === projectId && s.userId === userId) s.end(new AppError('FORBIDDEN', 'You no longer have access to this project.'));
    }
  }

  /** Ends the subscriptions opened with these credentials (signed out, token revoked, password changed). */
  revokeCredentials(credentialIds: readonly string[]): void {
    const ids = new Set(credentialIds);
    for (const s of this.subscribers) {
      if (s.credentialId !== undefined && ids.has(s.credentialId)) s.end(new AppError('UNAUTHENTICATED', 'You were signed out.'));
    }
  }

  subscriberCount(): number {
    return this.subscribers.size;
  }

  /**
   * Listens on `channels` from THIS call on (not from the first `next()`): the stream procedure
   * subscribes before tRPC tells the tab it is connected, and the tab fetches its state only then,
   * so no event can fall between the state it fetched and the events it receives.
   */
  subscribe(
    channels: string[],
    opts: {
      projectId: string;
      userId: string;
      lastEventId?: string | null | undefined;
      signal?: AbortSignal | undefined;
      /** The caller's credential: revoking it, or its expiry, ends the stream. */
      credential?: { id: string; expiresAt: Date | null } | undefined;
    },
  ): AsyncGenerator<HubEvent> {
    const queue: HubEvent[] = [];
    let wake: (() => void) | null = null;
    let ended = false;
    let failure: AppError | undefined;
    const maxQueued = this.opts.maxQueuedPerSubscriber ?? 10_000;
    const sub: Subscriber = {
      channels: new Set(channels),
      projectId: opts.projectId,
      userId: opts.userId,
      credentialId: opts.credential?.id,
      push: (e) => {
        queue.push(e);
        // A consumer this far behind is disconnected; it resumes from its last id on reconnect.
        if (queue.length > maxQueued) sub.end(new AppError('UNAVAILABLE', 'Event stream fell behind; reconnecting.'));
        wake?.();
      },
      end: (error) => {
        ended = true;
        failure ??= error;
        wake?.();
      },
    };
    // Removed on abort even if the stream was never read (a generator that has not started does
    // not run its finally block).
    // The stream ends when its credential expires. setTimeout's delay is a 32-bit int: a
    // credential further out is checked again then.
    let expiryTimer: NodeJS.Timeout | undefined;
    const expiresAt = opts.credential?.expiresAt?.getTime();
    if (expiresAt !== undefined) {
      const check = () => {
        if (Date.now() >= expiresAt) sub.end(new AppError('UNAUTHENTICATED', 'Your session expired. Sign in again.'));
        else expiryTimer = setTimeout(check, Math.min(expiresAt - Date.now(), 2 ** 31 - 1)).unref();
      };
      expiryTimer = setTimeout(check, Math.min(Math.max(expiresAt - Date.now(), 0), 2 ** 31 - 1)).unref();
    }
    const detach = () => {
      clearTimeout(expiryTimer);
      this.subscribers.delete(sub);
      opts.signal?.removeEventListener('abort', onAbort);
    };
    const onAbort = () => {
      sub.end();
      detach();
    };
    if (opts.signal?.aborted) ended = true;
    else {
      opts.signal?.addEventListener('abort', onAbort);
      this.subscribers.add(sub);
      if (opts.lastEventId) queue.push(...this.replayAfter(opts.lastEventId, sub.channels));
    }
    return (async function* () {
      try {
        while (true) {
          while (queue.length) yield queue.shift()!;
          if (ended) break;
          await new Promise<void>((r) => (wake = r));
          wake = null;
        }
        if (failure) throw failure;
      } finally {
        detach();
      }
    })();
  }

  private replayAfter(lastEventId: string, channels: Set<string>): HubEvent[] {
    const [epoch, seqText] = lastEventId.split('.');
    const last = Number(seqText);
    const resync: HubEvent = { id: `${this.epoch}.${this.seq}`, channel: '*', type: 'resync', data: null };
    if (epoch !== this.epoch || !Number.isFinite(last)) return [resync];
    const out: HubEvent[] = [];
    for (const ch of channels) {
      const buf = this.buffers.get(ch) ?? [];
      const first = buf[0];
      if (first && Number(first.id.split('.')[1]) > last + 1 && buf.length >= (this.opts.replayPerChannel ?? 2000) / 2) return [resync];
      for (const e of buf) if (Number(e.id.split('.')[1]) > last) out.push(e);
    }
    return out.sort((a, b) => Number(a.id.split('.')[1]) - Number(b.id.split('.')[1]));
  }
}
