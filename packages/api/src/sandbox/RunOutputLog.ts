import type { OutputChunk } from '@tandem/sandbox';
import type { RunOutputSnapshot } from './sandboxEvents.ts';

/**
 * The output of one run, kept on the server so a participant who reloads the page (or joins
 * late) sees what everyone else saw. Bounded: past `maxChars` the oldest chunks are dropped
 * (the run itself is capped by the sandbox's output limit anyway).
 */
export class RunOutputLog {
  private readonly chunks: { stream: 'stdout' | 'stderr'; text: string }[] = [];
  private kept = 0;
  private total = 0;
  private omittedChars = 0;

  constructor(
    readonly runId: string,
    private readonly maxChars: number,
  ) {}

  /** Appends a chunk; returns the delivered-characters counter after it (`end`). */
  append(chunk: OutputChunk): number {
    const stream = chunk.stream === 'stderr' ? 'stderr' : 'stdout';
    this.chunks.push({ stream, text: chunk.text });
    this.kept += chunk.text.length;
    this.total += chunk.text.length;
    while (this.kept > this.maxChars && this.chunks.length > 1) {
      const dropped = this.chunks.shift()!;
      this.kept -= dropped.text.length;
      this.omittedChars += dropped.text.length;
    }
    return this.total;
  }

  get end(): number {
    return this.total;
  }

  /** What is kept; with `maxChars`, only its last `maxChars` characters (e.g. to store them). */
  snapshot(maxChars = Infinity): RunOutputSnapshot {
    const chunks: RunOutputSnapshot['chunks'] = [];
    let room = maxChars;
    for (let i = this.chunks.length - 1; i >= 0 && room > 0; i--) {
      const c = this.chunks[i]!;
      const text = c.text.length > room ? c.text.slice(c.text.length - room) : c.text;
      chunks.unshift({ stream: c.stream, text });
      room -= text.length;
    }
    const keptChars = chunks.reduce((n, c) => n + c.text.length, 0);
    return { runId: this.runId, chunks, end: this.total, omitted: this.total - keptChars };
  }
}
