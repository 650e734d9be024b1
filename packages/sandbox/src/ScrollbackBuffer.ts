/**
 * The most recent terminal output, bounded to `maxChars` UTF-16 code units, so a client that
 * (re)attaches can paint the recent screen. Chunks are kept as received and trimmed from the
 * front; the oldest kept chunk may start mid-line (or mid escape sequence), which terminals
 * tolerate.
 */
export class ScrollbackBuffer {
  private readonly maxChars: number;
  private chunks: string[] = [];
  private chars = 0;

  constructor(maxChars: number) {
    if (!Number.isInteger(maxChars) || maxChars < 1) throw new RangeError('maxChars must be a positive integer');
    this.maxChars = maxChars;
  }

  append(text: string): void {
    if (text.length === 0) return;
    if (text.length >= this.maxChars) {
      this.chunks = [text.slice(text.length - this.maxChars)];
      this.chars = this.maxChars;
      return;
    }
    this.chunks.push(text);
    this.chars += text.length;
    let drop = 0;
    while (this.chars > this.maxChars) {
      const first = this.chunks[drop]!;
      const excess = this.chars - this.maxChars;
      if (first.length <= excess) {
        this.chars -= first.length;
        drop++;
      } else {
        this.chunks[drop] = first.slice(excess);
        this.chars -= excess;
      }
    }
    if (drop > 0) this.chunks.splice(0, drop);
    // Keep the array short so append stays O(1) amortized and snapshot cheap.
    if (this.chunks.length > 256) this.chunks = [this.chunks.join('')];
  }

  snapshot(): string {
    return this.chunks.join('');
  }

  get length(): number {
    return this.chars;
  }
}
