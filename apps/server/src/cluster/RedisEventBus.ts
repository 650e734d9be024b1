import type { EventBus } from '@tandem/api';
import type { RedisPubSub } from '@tandem/collab';

type HubMessage = Parameters<EventBus['publish']>[0];

const CHANNEL = 'events';

/**
 * The EventHub's bus over Redis pub/sub: an event published on any node (AI suggestion frames,
 * completion deltas for a tab, run and terminal output) reaches the SSE subscribers of every node,
 * this one included (the hub delivers what comes back from Redis, so every node sees one order).
 */
export class RedisEventBus implements EventBus {
  private handler: ((message: HubMessage) => void) | null = null;
  private unsubscribe: (() => void) | null = null;

  constructor(
    private readonly pubsub: RedisPubSub,
    private readonly logError: (message: string, error: unknown) => void = (m, e) => console.error(m, e),
  ) {}

  /** Resolves once events from every node are being received. */
  async start(): Promise<void> {
    this.unsubscribe = await this.pubsub.subscribe(CHANNEL, (bytes) => this.received(bytes));
  }

  publish(message: HubMessage): void {
    this.pubsub.publish(CHANNEL, JSON.stringify(message));
  }

  onMessage(handler: (message: HubMessage) => void): void {
    this.handler = handler;
  }

  stop(): void {
    this.unsubscribe?.();
    this.unsubscribe = null;
  }

  private received(bytes: Buffer): void {
    let message: HubMessage;
    try {
      message = JSON.parse(bytes.toString('utf8')) as HubMessage;
    } catch (error) {
      this.logError('[cluster] undecodable hub event', error);
      return;
    }
    if (typeof message?.channel !== 'string' || typeof message.type !== 'string') return;
    this.handler?.(message);
  }
}
