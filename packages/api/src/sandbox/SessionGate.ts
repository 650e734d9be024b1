import { randomUUID } from 'node:crypto';
import { AppError } from '@tandem/protocol';
import type { SandboxHost } from '@tandem/sandbox';
import { QUEUE_EVENT, type ProjectPublisher, type UserRef } from './sandboxEvents.ts';
import { SlotQueue, type SlotGrant } from './SlotQueue.ts';

export interface SessionGateOptions {
  host: SandboxHost;
  /** Runs and terminals one user may have open or starting at once. */
  maxPerUser: number;
  queue: { maxWaiting: number; timeoutMs: number };
  /** Runs and terminals the user started that are live. */
  heldBy: (userId: string) => number;
  publish: ProjectPublisher;
}

/**
 * Who may start a run or terminal, and when (split from SandboxService): a per-user cap over
 * everything they have open or starting, and a fair queue for a free sandbox slot of the host.
 */
export class SessionGate {
  /** Sessions being started, per user (not yet live): counted so concurrent starts cannot overshoot. */
  private readonly startingByUser = new Map<string, number>();
  private readonly slots: SlotQueue;

  constructor(private readonly o: SessionGateOptions) {
    this.slots = new SlotQueue({
      free: () => o.host.freeSlots(), held: o.heldBy, maxWaiting: o.queue.maxWaiting, timeoutMs: o.queue.timeoutMs,
    });
    o.host.onSlotFreed(() => this.slots.pump());
  }

  /**
   * Holds one of the user's slots while a run or terminal starts (refused with 429 when they have
   * `maxSessionsPerUser` open or starting); the returned function releases the reservation, by
   * then the session itself counts (a live run or terminal started by the user).
   */
  reserve(user: UserRef): () => void {
    const { maxPerUser } = this.o;
    const open = (this.startingByUser.get(user.id) ?? 0) + this.o.heldBy(user.id);
    if (open >= maxPerUser) {
      throw new AppError('RATE_LIMITED', `You already have ${maxPerUser} runs or terminals open (the limit per person); stop one first.`);
    }
    this.startingByUser.set(user.id, (this.startingByUser.get(user.id) ?? 0) + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const left = (this.startingByUser.get(user.id) ?? 1) - 1;
      if (left <= 0) this.startingByUser.delete(user.id);
      else this.startingByUser.set(user.id, left);
    };
  }

  /**
   * A free sandbox slot, at once or after waiting in the fair queue while the host is full; the
   * project's participants see the wait (QUEUE_EVENT). Refused at once when code cannot run on
   * this host. Call the grant once the session started.
   */
  async admit(projectId: string, kind: 'run' | 'terminal', user: UserRef): Promise<SlotGrant> {
    const report = await this.o.host.checkIsolation();
    if (!report.canRun) {
      throw new AppError('UNAVAILABLE', `Running code is disabled on this server because its sandbox is not available: ${report.missing.join('; ')}.`);
    }
    const ticket = randomUUID();
    let queued = false;
    try {
      return await this.slots.acquire(user.id, (position) => {
        queued = true;
        this.o.publish(projectId, QUEUE_EVENT, { projectId, ticket, kind, user, position });
      });
    } finally {
      if (queued) this.o.publish(projectId, QUEUE_EVENT, { projectId, ticket, kind, user, position: null });
    }
  }

  close(): void {
    this.slots.close();
  }
}
