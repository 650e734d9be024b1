'use client';
import * as monaco from '@/lib/ide/monaco';
import { loadInlineCompletions } from '@/lib/ide/inlineCompletionsFeature';
import { acquireProjectStream } from '@/lib/useProjectStream';
import type { ProjectStream, StreamEvent } from '@/lib/ProjectStream';
import { errorMessage, trpc } from '@/lib/trpc';
import { CompletionSession } from './CompletionSession';
import { completionStatusStore, type CompletionStatusStore } from './CompletionStatusStore';
import { completionContext, type OpenFile } from './completionContext';

/** What the editor that hosts completions tells the controller. */
export interface CompletionHost {
  projectId: string;
  /** The open files (tabs), each with its model and path; the editor's model is one of them. */
  openFiles(): OpenFile[];
  /** False while the editor is read-only. */
  canEdit(): boolean;
}

/** Pause after a keystroke before asking the model (a new keystroke within it asks nothing). */
const DEBOUNCE_MS = 75;
const ACCEPT_LINE_KEY = monaco.KeyMod.CtrlCmd | monaco.KeyMod.Alt | monaco.KeyCode.RightArrow;

/**
 * Inline ghost-text completions for one Monaco editor, streamed from the server.
 *
 * Flow: Monaco asks `provideInlineCompletions` after each edit (its own debounce is off: ours is
 * abortable). If the text typed since the current completion was requested is the beginning of
 * what the model produced, the rest is shown at once and nothing is requested. Otherwise the
 * running request is cancelled (`ai.cancel`, which closes the upstream HTTP request), and after
 * DEBOUNCE_MS without another keystroke a new one starts (`ai.complete`). Its text arrives as
 * `completion` events on the tab's one ProjectStream; the first characters resolve the waiting
 * Monaco request directly; for later ones (at most once per animation frame) Monaco is made to
 * ask again so the ghost text grows as it streams. Monaco 0.57 ignores a provider's
 * `onDidChangeInlineCompletions` when position and text are unchanged (its last result
 * "satisfies" the new request), so the re-ask is hide + explicit trigger, done within one frame
 * (no flicker: our answer is synchronous, and an explicit trigger is not debounced).
 * Tab accepts all, Ctrl/Cmd+→ the next word, Ctrl/Cmd+Alt+→ the next line, Esc dismisses.
 */
export class InlineCompletionController {
  readonly #editor: monaco.editor.IStandaloneCodeEditor;
  readonly #host: CompletionHost;
  readonly #status: CompletionStatusStore;
  readonly #stream: ProjectStream;
  readonly #releaseStream: () => void;
  readonly #disposables: monaco.IDisposable[] = [];
  #session: CompletionSession | null = null;
  #frame: number | null = null;
  #available = false;
  /**
   * Text version of our last re-ask for more streamed text: a provide call at that version is
   * that re-ask. A keystroke changes the version, so its request is never mistaken for one.
   */
  #streamUpdateVersion: string | null = null;
  #disposed = false;

  constructor(editor: monaco.editor.IStandaloneCodeEditor, host: CompletionHost) {
    this.#editor = editor;
    this.#host = host;
    this.#status = completionStatusStore(host.projectId);
    const { stream, release } = acquireProjectStream(host.projectId);
    this.#stream = stream;
    this.#releaseStream = release;
    this.#disposables.push(
      monaco.languages.registerInlineCompletionsProvider({ pattern: '**' }, this.#provider()),
      editor.onKeyDown((e) => {
        if (e.keyCode === monaco.KeyCode.Escape) this.#dismiss();
      }),
      editor.onDidChangeModel(() => this.#cancel()),
      monaco.editor.addKeybindingRule({ keybinding: ACCEPT_LINE_KEY, command: 'editor.action.inlineSuggest.acceptNextLine', when: 'inlineSuggestionVisible && !editorReadonly' }),
    );
    const off = stream.on('completion', (e) => this.#onEvent(e));
    this.#disposables.push({ dispose: off });
    void this.refreshAvailability();
  }

  /** Asks the server which provider serves this project (and, if none, what to configure). */
  async refreshAvailability(): Promise<void> {
    try {
      const status = await trpc.ai.status.query({ projectId: this.#host.projectId });
      const available = status.canComplete && status.effective !== null;
      // Ghost text is Monaco's to draw: its contribution loads now, before completions count as ready.
      if (available && !this.#disposed) await loadInlineCompletions();
      if (this.#disposed) return;
      this.#available = available;
      this.#status.update({
        availability: !status.canComplete ? 'viewer' : status.effective ? 'ready' : 'unavailable',
        provider: status.effective ? { label: status.effective.label, model: status.effective.model, fim: status.effective.fim } : null,
        problem: status.problem,
      });
    } catch (e) {
      this.#status.update({ availability: 'unavailable', provider: null, problem: errorMessage(e) });
    }
  }

  dispose(): void {
    this.#disposed = true;
    this.#cancel();
    if (this.#frame !== null) cancelAnimationFrame(this.#frame);
    for (const d of this.#disposables) d.dispose();
    this.#releaseStream();
  }

  #provider(): monaco.languages.InlineCompletionsProvider {
    return {
      displayName: 'Tandem AI',
      debounceDelayMs: 0,
      provideInlineCompletions: (model, position, context, token) => this.#provide(model, position, context, token),
      disposeInlineCompletions: () => {},
    };
  }

  async #provide(
    model: monaco.editor.ITextModel,
    position: monaco.Position,
    context: monaco.languages.InlineCompletionContext,
    token: monaco.CancellationToken,
  ): Promise<monaco.languages.InlineCompletions> {
    const none = { items: [] };
    const version = versionOf(model);
    const streamUpdate = this.#streamUpdateVersion === version;
    // Providers are global: with a file open in both editor groups, only the editor typed in answers.
    if (model !== this.#editor.getModel() || !this.#editor.hasTextFocus() || !this.#available || !this.#host.canEdit()) return none;
    const offset = model.getOffsetAt(position);
    const session = this.#session;
    if (session && session.modelId === model.id) {
      const from = Math.max(0, offset - session.lookBehind);
      const rest = session.remaining(textBetween(model, from, offset), from === 0);
      if (rest !== null && (rest.length > 0 || session.running)) {
        // Still applies: show the rest, or (typed all that arrived) let the next delta re-ask here.
        session.version = version;
        return rest.length > 0 ? ghost(rest, position) : none;
      }
      this.#cancel();
    }
    if (streamUpdate) return none; // more text for a completion that no longer applies
    if (context.triggerKind === monaco.languages.InlineCompletionTriggerKind.Automatic && !(await pause(DEBOUNCE_MS, token))) return none;
    const started = this.#start(model, offset);
    if (!started) return none;
    const onCancel = cancelled(token);
    await Promise.race([started.firstText(), onCancel.promise]);
    onCancel.dispose();
    if (token.isCancellationRequested || this.#session !== started) return none;
    const rest = started.remaining(textBetween(model, Math.max(0, offset - started.lookBehind), offset), offset - started.lookBehind <= 0);
    if (!rest || versionOf(model) !== started.version) return none;
    return ghost(rest, position);
  }

  #start(model: monaco.editor.ITextModel, offset: number): CompletionSession | null {
    if (this.#stream.state !== 'live') {
      this.#status.update({ state: 'error', error: 'Waiting for the live connection to the server…', metrics: null });
      return null;
    }
    const path = this.#host.openFiles().find((f) => f.model === model)?.path;
    if (!path) return null;
    const anchorFrom = Math.max(0, offset - 200);
    const session = new CompletionSession(crypto.randomUUID(), model.id, textBetween(model, anchorFrom, offset), anchorFrom === 0);
    session.version = versionOf(model);
    this.#session = session;
    this.#status.update({ state: 'waiting', metrics: null, error: null });
    const input = { projectId: this.#host.projectId, tabId: this.#stream.tabId, requestId: session.requestId, ...completionContext(model, offset, path, this.#host.openFiles()) };
    trpc.ai.complete.mutate(input).catch((e: unknown) => {
      session.finish('error', null, errorMessage(e));
      if (this.#session === session) this.#status.update({ state: 'error', error: errorMessage(e) });
    });
    return session;
  }

  #onEvent(e: StreamEvent<'completion'>): void {
    const event = e.data;
    const session = this.#session;
    if (!session || event.requestId !== session.requestId) return;
    switch (event.kind) {
      case 'delta':
        session.append(event.text, event.metrics);
        this.#status.update({ state: 'streaming', metrics: event.metrics });
        break;
      case 'done':
        session.finish(event.finishReason === 'cancelled' ? 'cancelled' : 'done', event.metrics);
        this.#status.update({ state: session.state, metrics: event.metrics });
        break;
      case 'error':
        session.finish('error', event.metrics, event.error.message);
        this.#status.update({ state: 'error', metrics: event.metrics, error: event.error.message });
        break;
    }
    if (event.kind !== 'error' && !session.dismissed) this.#requery();
  }

  /** Makes Monaco re-ask (new text arrived), at most once per frame. */
  #requery(): void {
    if (this.#frame !== null) return;
    this.#frame = requestAnimationFrame(() => {
      this.#frame = null;
      const session = this.#session;
      const model = this.#editor.getModel();
      if (!session || session.dismissed || this.#disposed || !model) return;
      // Typed since it was shown: that keystroke's own request decides what to show.
      if (versionOf(model) !== session.version) return;
      // Focus is elsewhere (the hide action would take it back): show the rest on return.
      if (!this.#editor.hasTextFocus()) return;
      this.#streamUpdateVersion = session.version;
      this.#editor.trigger('tandem-ai', 'editor.action.inlineSuggest.hide', undefined);
      this.#editor.trigger('tandem-ai', 'editor.action.inlineSuggest.trigger', undefined);
    });
  }

  #dismiss(): void {
    if (!this.#session) return;
    this.#session.dismissed = true;
    this.#cancel();
  }

  /** Cancels the running completion, and its upstream request, if any. */
  #cancel(): void {
    const session = this.#session;
    this.#session = null;
    if (!session?.running) return;
    session.finish('cancelled', null);
    this.#status.update({ state: 'cancelled' });
    trpc.ai.cancel.mutate({ requestId: session.requestId }).catch(() => {});
  }
}

function versionOf(model: monaco.editor.ITextModel): string {
  return `${model.id}@${model.getVersionId()}`;
}

function ghost(text: string, position: monaco.Position): monaco.languages.InlineCompletions {
  return { items: [{ insertText: text, range: monaco.Range.fromPositions(position) }] };
}

function textBetween(model: monaco.editor.ITextModel, from: number, to: number): string {
  return model.getValueInRange(monaco.Range.fromPositions(model.getPositionAt(from), model.getPositionAt(to)));
}

/** Waits `ms`; false if the request was cancelled meanwhile (the user kept typing). */
function pause(ms: number, token: monaco.CancellationToken): Promise<boolean> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      sub.dispose();
      resolve(true);
    }, ms);
    const sub = token.onCancellationRequested(() => {
      clearTimeout(timer);
      sub.dispose();
      resolve(false);
    });
  });
}

function cancelled(token: monaco.CancellationToken): { promise: Promise<void>; dispose(): void } {
  let listener: monaco.IDisposable | undefined;
  const promise = new Promise<void>((resolve) => {
    if (token.isCancellationRequested) return resolve();
    listener = token.onCancellationRequested(() => resolve());
  });
  return { promise, dispose: () => listener?.dispose() };
}
