import type { CompletionMetrics } from '@tandem/api';

/** How much text before the cursor identifies where a completion was requested. */
const ANCHOR_CHARS = 200;
/** Stands for the start of the file in anchors (a request near the top has a short anchor). */
const FILE_START = '\u0000';

export type SessionState = 'waiting' | 'streaming' | 'done' | 'cancelled' | 'error';

/**
 * One inline completion as this tab sees it: where it was requested (the text just before the
 * cursor), the text received so far, and its state. Plain data, no Monaco: the controller asks
 * it what ghost text to show for the text now before the cursor.
 *
 * The anchor is the text before the cursor rather than an offset, so edits elsewhere in the
 * file (other people typing above) do not invalidate a completion.
 */
export class CompletionSession {
  text = '';
  state: SessionState = 'waiting';
  metrics: CompletionMetrics | null = null;
  error: string | null = null;
  /** Set when the user dismissed it (Esc): it is not shown again, even as more text arrives. */
  dismissed = false;
  /**
   * The editor text version (`<model id>@<version>`) this completion was last requested or
   * shown at. More streamed text is shown by re-asking Monaco only while the text is still at
   * this version: after a keystroke, the keystroke's own request decides.
   */
  version = '';
  readonly anchor: string;
  #firstWaiters: Array<() => void> = [];

  /** `textBeforeCursor`: up to `ANCHOR_CHARS` characters, or all of them from the file start. */
  constructor(readonly requestId: string, readonly modelId: string, textBeforeCursor: string, fromFileStart: boolean) {
    this.anchor = (fromFileStart && textBeforeCursor.length <= ANCHOR_CHARS ? FILE_START : '') + textBeforeCursor.slice(-ANCHOR_CHARS);
  }

  get running(): boolean {
    return this.state === 'waiting' || this.state === 'streaming';
  }

  /** How many characters before the cursor `remaining` needs to see. */
  get lookBehind(): number {
    return ANCHOR_CHARS + this.text.length;
  }

  /**
   * The ghost text to show when `textBeforeCursor` (the last `lookBehind` characters, or all of
   * them from the file start) is before the cursor: the rest of the
   * completion if what was typed since the request is its beginning ('' when the user typed all
   * that has arrived so far); null if it no longer applies (the cursor moved, or the user typed
   * something the model did not produce — including typing before any text arrived).
   */
  remaining(textBeforeCursor: string, fromFileStart: boolean): string | null {
    if (this.dismissed) return null;
    const window = (fromFileStart ? FILE_START : '') + textBeforeCursor;
    const at = window.lastIndexOf(this.anchor);
    if (at === -1) return null;
    const typed = window.slice(at + this.anchor.length);
    return this.text.startsWith(typed) ? this.text.slice(typed.length) : null;
  }

  append(text: string, metrics: CompletionMetrics): void {
    this.text += text;
    this.metrics = metrics;
    if (this.state === 'waiting') this.state = 'streaming';
    this.#wake();
  }

  finish(state: 'done' | 'cancelled' | 'error', metrics: CompletionMetrics | null, error: string | null = null): void {
    if (!this.running) return;
    this.state = state;
    if (metrics) this.metrics = metrics;
    this.error = error;
    this.#wake();
  }

  /** Resolves once text arrived or the completion ended (whichever comes first). */
  firstText(): Promise<void> {
    if (this.state !== 'waiting') return Promise.resolve();
    return new Promise((resolve) => this.#firstWaiters.push(resolve));
  }

  #wake(): void {
    for (const w of this.#firstWaiters.splice(0)) w();
  }
}
