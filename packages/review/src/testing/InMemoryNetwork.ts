import * as Y from 'yjs';
import type { SeededRandom } from '@tandem/protocol/testing';

interface InFlight {
  readonly to: number;
  readonly update: Uint8Array;
  readonly deliverAt: number;
}

/**
 * A test connector in the spirit of Yjs' own test harness: every local update of a peer is sent to
 * every other peer with a random delay, and deliveries that are due happen in random order. Yjs
 * must cope with out-of-order updates (it buffers missing dependencies), so the docs converge once
 * everything is delivered.
 */
export class InMemoryNetwork {
  readonly docs: Y.Doc[];
  private readonly random: SeededRandom;
  private readonly maxDelay: number;
  private inFlight: InFlight[] = [];
  private now = 0;

  constructor(peers: number, random: SeededRandom, maxDelay = 4) {
    this.random = random;
    this.maxDelay = maxDelay;
    this.docs = Array.from({ length: peers }, (_, i) => {
      const doc = new Y.Doc();
      doc.clientID = i + 1; // deterministic ids: conflict resolution order depends on them
      doc.on('update', (update: Uint8Array, origin: unknown) => {
        if (origin !== this) this.broadcast(i, update);
      });
      return doc;
    });
  }

  private broadcast(from: number, update: Uint8Array): void {
    this.docs.forEach((_, to) => {
      if (to !== from) this.inFlight.push({ to, update, deliverAt: this.now + this.random.int(0, this.maxDelay) });
    });
  }

  /** Advances time one tick and delivers the due updates in random order. */
  tick(): void {
    this.now++;
    const due = this.inFlight.filter((m) => m.deliverAt <= this.now);
    this.inFlight = this.inFlight.filter((m) => m.deliverAt > this.now);
    for (let i = due.length - 1; i > 0; i--) {
      const j = this.random.int(0, i);
      [due[i], due[j]] = [due[j]!, due[i]!];
    }
    for (const m of due) Y.applyUpdate(this.docs[m.to]!, m.update, this);
  }

  /** Delivers everything still in flight (still in random order). */
  flush(): void {
    while (this.inFlight.length > 0) this.tick();
  }

  destroy(): void {
    for (const doc of this.docs) doc.destroy();
  }
}
