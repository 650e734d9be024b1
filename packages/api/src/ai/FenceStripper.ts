/**
 * Chat models asked for "only the code" still often wrap it in a Markdown fence. For inline
 * completions the fence must not reach the editor, so this strips an opening fence line
 * (```lang) at the very start and ends the completion at a closing fence. It works on a
 * stream: text is held back only while it could still be the start of a fence (at most a few
 * characters), so the first characters are not delayed in the normal case.
 */
const FENCE = '```';
const CLOSING = '\n```';

export class FenceStripper {
  #state: 'start' | 'opening' | 'body' | 'closed' = 'start';
  #held = '';

  /** True once a closing fence was seen: the caller should stop the stream. */
  get closed(): boolean {
    return this.#state === 'closed';
  }

  /** Returns the text that may be shown now. */
  push(text: string): string {
    if (this.#state === 'closed') return '';
    this.#held += text;
    if (this.#state === 'start') {
      const trimmed = this.#held.trimStart();
      if (trimmed.length < FENCE.length && FENCE.startsWith(trimmed)) return '';
      if (trimmed.startsWith(FENCE)) {
        this.#state = 'opening';
        this.#held = trimmed;
      } else {
        this.#state = 'body';
      }
    }
    if (this.#state === 'opening') {
      const newline = this.#held.indexOf('\n');
      if (newline === -1) return '';
      this.#held = this.#held.slice(newline + 1);
      this.#state = 'body';
    }
    return this.#releaseBody();
  }

  /** The stream ended: whatever was held back is text after all. */
  end(): string {
    if (this.#state === 'closed' || this.#state === 'opening') return '';
    const rest = this.#held;
    this.#held = '';
    return rest;
  }

  #releaseBody(): string {
    const at = this.#held.indexOf(CLOSING);
    if (at !== -1) {
      this.#state = 'closed';
      const out = this.#held.slice(0, at);
      this.#held = '';
      return out;
    }
    // Keep back a tail that could be the beginning of "\n```".
    let keep = 0;
    for (let n = Math.min(CLOSING.length - 1, this.#held.length); n > 0; n--) {
      if (CLOSING.startsWith(this.#held.slice(-n))) {
        keep = n;
        break;
      }
    }
    const out = this.#held.slice(0, this.#held.length - keep);
    this.#held = this.#held.slice(this.#held.length - keep);
    return out;
  }
}
