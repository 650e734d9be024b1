import type { RedisPubSub } from '@tandem/collab';

/** What one node tells every other node (JSON over Redis pub/sub). */
export interface NodeCommands {
  /** A member's role changed (null: removed): open sync connections and event streams follow at once. */
  'access-changed': { projectId: string; userId: string; role: 'owner' | 'editor' | 'viewer' | null };
  /** Sessions or tokens ended (sign-out, password change, revocation): close their connections, drop them from caches. */
  'credentials-revoked': { credentialIds: string[] };
  /** A project was deleted: drop what is cached for it. */
  'project-deleted': { projectId: string };
  /** Cancel an inline completion wherever it runs (the tab's `ai.cancel` may reach another node). */
  'ai-cancel': { userId: string; requestId: string };
  /** A project's AI provider choice or agent policy changed: drop it from the AI settings cache. */
  'ai-settings-changed': { projectId: string };
  /** The project's documents changed through this node (sandboxes re-copy files before the next command). */
  'project-files-changed': { projectId: string };
}

type Handler<K extends keyof NodeCommands> = (payload: NodeCommands[K], from: string) => void;

const CHANNEL = 'nodes';

/**
 * Broadcasts between server nodes for state that lives in one node's memory but must follow a
 * change made through another (sync connections, subscriptions, in-flight AI requests). Fire and
 * forget, like the pub/sub under it: a command sent while Redis is unreachable is lost, which each
 * use tolerates (see README → Running several nodes).
 */
export class NodeCommandBus {
  private readonly handlers = new Map<keyof NodeCommands, Handler<keyof NodeCommands>>();
  private unsubscribe: (() => void) | null = null;

  constructor(
    private readonly pubsub: RedisPubSub,
    readonly nodeId: string,
    private readonly logError: (message: string, error: unknown) => void = (m, e) => console.error(m, e),
  ) {}

  async start(): Promise<void> {
    this.unsubscribe = await this.pubsub.subscribe(CHANNEL, (message) => this.received(message));
  }

  /** Handles `command` when another node broadcasts it (one handler per command). */
  on<K extends keyof NodeCommands>(command: K, handler: Handler<K>): void {
    this.handlers.set(command, handler as Handler<keyof NodeCommands>);
  }

  /** Sends `command` to every other node. */
  broadcast<K extends keyof NodeCommands>(command: K, payload: NodeCommands[K]): void {
    this.pubsub.publish(CHANNEL, JSON.stringify({ from: this.nodeId, command, payload }));
  }

  stop(): void {
    this.unsubscribe?.();
    this.unsubscribe = null;
  }

  private received(bytes: Buffer): void {
    let message: { from?: unknown; command?: unknown; payload?: unknown };
    try {
      message = JSON.parse(bytes.toString('utf8')) as typeof message;
    } catch (error) {
      this.logError('[cluster] undecodable node command', error);
      return;
    }
    if (message.from === this.nodeId || typeof message.command !== 'string') return;
    const handler = this.handlers.get(message.command as keyof NodeCommands);
    if (!handler) return;
    try {
      handler(message.payload as never, String(message.from));
    } catch (error) {
      this.logError(`[cluster] handling ${message.command} failed`, error);
    }
  }
}
