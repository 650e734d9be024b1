import { Redis } from 'ioredis';
import { AppError } from '@tandem/protocol';
import type { SyncLogger } from './SyncExtension.ts';

export interface RedisPubSubOptions {
  /** redis:// URL. */
  url: string;
  /** Prepended to every channel, so deployments (and test runs) sharing one Redis never meet. */
  prefix: string;
  logger?: SyncLogger;
  /** How long a subscription may take before it fails (Redis unreachable). Default 5 s. */
  subscribeTimeoutMs?: number;
}

type MessageHandler = (message: Buffer) => void;

/**
 * One node's Redis pub/sub: a publishing connection and a subscribing one, channel
 * subscriptions counted per handler, binary messages. Redis pub/sub is fire-and-forget: what is
 * published while a connection is down is lost, so after a reconnect every `onReconnect` handler
 * runs (once the subscriptions are active again) and heals from the durable store.
 */
export class RedisPubSub {
  private readonly publisher: Redis;
  private readonly subscriber: Redis;
  private readonly handlers = new Map<string, Set<MessageHandler>>();
  private readonly reconnectHandlers = new Set<() => void>();
  private readonly logger: SyncLogger;
  private readonly subscribeTimeoutMs: number;
  private wasReady = false;
  private closed = false;

  constructor(private readonly options: RedisPubSubOptions) {
    this.logger = options.logger ?? { warn: console.warn, error: console.error };
    this.subscribeTimeoutMs = options.subscribeTimeoutMs ?? 5000;
    const connectionOptions = { maxRetriesPerRequest: null, retryStrategy: (attempt: number) => Math.min(50 * attempt, 1000) };
    this.publisher = new Redis(options.url, { ...connectionOptions, connectionName: 'tandem-pub' });
    this.subscriber = new Redis(options.url, { ...connectionOptions, connectionName: 'tandem-sub' });
    for (const connection of [this.publisher, this.subscriber]) {
      connection.on('error', (error: Error) => this.logger.warn(`redis: ${error.message}`));
    }
    this.subscriber.on('messageBuffer', (channel: Buffer, message: Buffer) => this.dispatch(channel.toString(), message));
    this.subscriber.on('ready', () => this.subscriberReady());
  }

  /** Resolves once both connections are up (start-up check: fails fast on a wrong URL). */
  async ready(timeoutMs = 10_000): Promise<void> {
    await withTimeout(Promise.all([this.publisher.ping(), this.subscriber.ping()]), timeoutMs, `Redis at ${redact(this.options.url)} did not answer`);
  }

  publish(channel: string, message: Buffer | string): void {
    if (this.closed) return;
    this.publisher.publish(this.options.prefix + channel, message).catch((error: Error) => this.logger.warn(`redis publish failed: ${error.message}`));
  }

  /**
   * Delivers messages of `channel` to `handler` from the moment the returned promise resolves
   * (the SUBSCRIBE is acknowledged) until the returned function is called.
   */
  async subscribe(channel: string, handler: MessageHandler): Promise<() => void> {
    if (this.closed) throw new AppError('UNAVAILABLE', 'The server is shutting down.');
    const full = this.options.prefix + channel;
    let set = this.handlers.get(full);
    const first = !set;
    if (!set) this.handlers.set(full, (set = new Set()));
    set.add(handler);
    const unsubscribe = () => this.unsubscribe(full, handler);
    try {
      // A second handler on a channel still waits for the first SUBSCRIBE (commands run in order).
      await withTimeout(first ? this.subscriber.subscribe(full) : this.subscriber.ping(), this.subscribeTimeoutMs, 'Redis did not confirm a subscription');
    } catch (error) {
      unsubscribe();
      throw new AppError('UNAVAILABLE', 'The cluster bus is unavailable.', error instanceof Error ? error.message : String(error));
    }
    return unsubscribe;
  }

  /** Runs `handler` after every reconnect of the subscriber, once its subscriptions are restored. */
  onReconnect(handler: () => void): () => void {
    this.reconnectHandlers.add(handler);
    return () => this.reconnectHandlers.delete(handler);
  }

  /** Unsubscribes everything and closes both connections. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.handlers.clear();
    await Promise.allSettled([this.subscriber.quit(), this.publisher.quit()]);
    this.subscriber.disconnect();
    this.publisher.disconnect();
  }

  /** For tests: drops the subscriber connection as a network failure would (it reconnects). */
  simulateConnectionLoss(): void {
    this.subscriber.disconnect(true);
  }

  private unsubscribe(full: string, handler: MessageHandler): void {
    const set = this.handlers.get(full);
    if (!set?.delete(handler) || set.size > 0) return;
    this.handlers.delete(full);
    if (!this.closed) this.subscriber.unsubscribe(full).catch(() => {});
  }

  private dispatch(channel: string, message: Buffer): void {
    for (const handler of this.handlers.get(channel) ?? []) {
      try {
        handler(message);
      } catch (error) {
        this.logger.error(`handling a message on ${channel} failed`, error);
      }
    }
  }

  private subscriberReady(): void {
    if (!this.wasReady) {
      this.wasReady = true;
      return;
    }
    // 'ready' fires before ioredis re-sends the SUBSCRIBEs; a PING queued now answers after them.
    setImmediate(() => {
      this.subscriber.ping().then(() => {
        if (this.closed) return;
        for (const handler of this.reconnectHandlers) {
          try {
            handler();
          } catch (error) {
            this.logger.error('a reconnect handler failed', error);
          }
        }
      }, () => {});
    });
  }
}

function withTimeout<T>(promise: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${message} within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

function redact(url: string): string {
  return url.replace(/\/\/([^:@/]*):[^@/]*@/, '//$1:***@');
}
