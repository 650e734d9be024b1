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

  snapshot(): RunOutputSnapshot {
    return { runId: this.runId, chunks: this.chunks.map((c) => ({ ...c })), end: this.total, omitted: this.omittedChars };
  }
}
