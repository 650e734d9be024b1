/**
 * Incremental Server-Sent Events parser (WHATWG "event stream" rules) tuned for the hot path of
 * token streaming: it scans with `indexOf` (no regex, no per-line split arrays), keeps only the
 * unfinished tail of the last chunk, and hands each complete event's `data` to a callback.
 *
 * Handles LF, CRLF and lone CR line endings (including a CRLF split across two chunks),
 * multi-line `data:` fields (joined with "\n"), comment lines (`: keep-alive`), and the optional
 * single space after the colon. Unknown fields and `id`/`retry` are ignored, as the spec says.
 */
export type SseDataHandler = (data: string, event: string) => void;

const COLON = 58;
const SPACE = 32;

export class SseParser {
  #carry = '';
  #data: string | undefined;
  #event: string | undefined;
  /** The previous chunk ended in CR: a LF at the start of the next one belongs to it. */
  #skipLeadingLf = false;

  /** Feeds the next piece of decoded text; `onData` runs once per complete event with data. */
  push(chunk: string, onData: SseDataHandler): void {
    const text = this.#carry.length > 0 ? this.#carry + chunk : chunk;
    let pos = 0;
    if (this.#skipLeadingLf) {
      this.#skipLeadingLf = false;
      if (text.charCodeAt(0) === 10) pos = 1;
    }
    let lf = text.indexOf('\n', pos);
    let cr = text.indexOf('\r', pos);
    while (lf !== -1 || cr !== -1) {
      let end: number;
      let next: number;
      if (cr === -1 || (lf !== -1 && lf < cr)) {
        end = lf;
        next = lf + 1;
      } else {
        end = cr;
        if (cr + 1 < text.length) {
          next = text.charCodeAt(cr + 1) === 10 ? cr + 2 : cr + 1;
        } else {
          next = cr + 1;
          this.#skipLeadingLf = true;
        }
      }
      this.#line(text, pos, end, onData);
      pos = next;
      // Re-scan only past the terminator we consumed, so a chunk is scanned O(n) overall.
      if (lf !== -1 && lf < pos) lf = text.indexOf('\n', pos);
      if (cr !== -1 && cr < pos) cr = text.indexOf('\r', pos);
    }
    this.#carry = pos === 0 ? text : text.slice(pos);
  }

  /**
   * End of stream. The spec discards an event without its terminating blank line; we deliver
   * it instead, because a final `data: [DONE]` without the blank line is a harmless quirk of
   * some servers, and the caller decides whether the stream ended properly.
   */
  end(onData: SseDataHandler): void {
    if (this.#carry.length > 0) {
      const rest = this.#carry;
      this.#carry = '';
      this.#line(rest, 0, rest.length, onData);
    }
    this.#dispatch(onData);
  }

  #line(text: string, start: number, end: number, onData: SseDataHandler): void {
    if (start === end) {
      this.#dispatch(onData);
      return;
    }
    const first = text.charCodeAt(start);
    if (first === COLON) return; // comment / keep-alive
    let colon = text.indexOf(':', start);
    if (colon === -1 || colon > end) colon = end;
    let valueStart = colon + 1;
    if (valueStart < end && text.charCodeAt(valueStart) === SPACE) valueStart++;
    const fieldLength = colon - start;
    if (fieldLength === 4 && text.startsWith('data', start)) {
      const value = valueStart >= end ? '' : text.slice(valueStart, end);
      this.#data = this.#data === undefined ? value : this.#data + '\n' + value;
    } else if (fieldLength === 5 && text.startsWith('event', start)) {
      this.#event = valueStart >= end ? '' : text.slice(valueStart, end);
    }
  }

  #dispatch(onData: SseDataHandler): void {
    const data = this.#data;
    const event = this.#event;
    this.#data = undefined;
    this.#event = undefined;
    if (data !== undefined) onData(data, event || 'message');
  }
}
