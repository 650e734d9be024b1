/**
 * Monaco's quick input (the F1 command palette, Ctrl+G "go to line", Ctrl+Shift+O "go to symbol",
 * and the pickers some commands open): its service, list and tree widgets are ~26 KiB gzipped that
 * the editor does not need until someone opens one. next.config.ts aliases Monaco's
 * `standaloneQuickInputService.js` (as standaloneServices.js imports it) to this module, whose
 * service imports the real one on first use and hands every call to it:
 * - `quickAccess.show`, `pick`, `input` (every way Monaco's editor opens a picker) wait for it; keys
 *   typed meanwhile go into the picker once it opens (captureTyping), not into the file;
 * - `createQuickPick`/`createInputBox` are synchronous: only "Go to Match…" calls one, and it has
 *   no key, so the palette that runs it has loaded the service already. Before that they throw an
 *   error that says so.
 * The real module brings the editor contribution its widget lives in; editors that exist then get
 * it through addNewContributions, and the keybinding resolver is rebuilt for the picker's keys.
 */
import { ICodeEditorService } from 'monaco-editor/editor/browser/services/codeEditorService.js';
import { IInstantiationService } from 'monaco-editor/platform/instantiation/common/instantiation.js';
import { addNewContributions } from './editorContributions';

type Args = unknown[];
interface QuickInputService {
  readonly currentQuickInput: unknown;
  readonly quickAccess: { show(...args: Args): void; pick(...args: Args): Promise<unknown> };
  pick(...args: Args): Promise<unknown>;
  input(...args: Args): Promise<unknown>;
  createQuickPick(...args: Args): unknown;
  createInputBox(...args: Args): unknown;
  toggle(): void;
  toggleHover(): void;
}
interface Instantiation {
  createInstance(ctor: unknown, ...args: Args): unknown;
}
interface CodeEditors {
  listCodeEditors(): object[];
}

export class StandaloneQuickInputService {
  #real: QuickInputService | undefined;
  #loading: Promise<QuickInputService> | undefined;

  constructor(
    private readonly instantiationService: Instantiation,
    private readonly codeEditorService: CodeEditors,
  ) {}

  #load(): Promise<QuickInputService> {
    this.#loading ??= Promise.all([
      import('monaco-editor/editor/standalone/browser/quickInput/standaloneQuickInputService.js'),
      import('./monaco'),
    ]).then(([real, monaco]) => {
      for (const editor of this.codeEditorService.listCodeEditors()) addNewContributions(editor);
      // The keybinding resolver is cached: rebuild it so the picker's commands (Ctrl+N/P, Alt+Left…) apply.
      monaco.editor.addKeybindingRules([]);
      this.#real = this.instantiationService.createInstance(real.StandaloneQuickInputService) as QuickInputService;
      return this.#real;
    });
    return this.#loading;
  }

  #loaded(what: string): QuickInputService {
    if (!this.#real) throw new Error(`${what}: Monaco's quick input loads when a picker first opens (apps/web/src/lib/ide/lazyQuickInput.ts)`);
    return this.#real;
  }

  get currentQuickInput(): unknown {
    return this.#real?.currentQuickInput;
  }

  get quickAccess(): QuickInputService['quickAccess'] {
    return this.#real?.quickAccess ?? {
      show: (value = '', ...rest) => {
        const typed = captureTyping();
        this.#load().then(
          (s) => {
            const { text, cancelled } = typed();
            if (!cancelled) s.quickAccess.show(`${String(value)}${text}`, ...rest);
          },
          (error: unknown) => {
            typed();
            throw error;
          },
        );
      },
      pick: (...args) => this.#load().then((s) => s.quickAccess.pick(...args)),
    };
  }

  pick(...args: Args): Promise<unknown> {
    return this.#load().then((s) => s.pick(...args));
  }

  input(...args: Args): Promise<unknown> {
    return this.#load().then((s) => s.input(...args));
  }

  createQuickPick(...args: Args): unknown {
    return this.#loaded('createQuickPick').createQuickPick(...args);
  }

  createInputBox(...args: Args): unknown {
    return this.#loaded('createInputBox').createInputBox(...args);
  }

  toggle(): void {
    this.#real?.toggle();
  }

  toggleHover(): void {
    this.#real?.toggleHover();
  }
}
/**
 * While the picker loads, what the user types (F1 then "go to…") belongs in it, not in the file:
 * keys are held back and the picker opens with them; Escape cancels it. Returns the stop function.
 */
function captureTyping(): () => { text: string; cancelled: boolean } {
  let text = '';
  let cancelled = false;
  const onKey = (e: KeyboardEvent) => {
    if (e.ctrlKey || e.metaKey || e.altKey) return;
    if (e.key.length === 1) text += e.key;
    else if (e.key === 'Backspace') text = text.slice(0, -1);
    else if (e.key === 'Escape') cancelled = true;
    else if (e.key !== 'Enter') return;
    e.preventDefault();
    e.stopImmediatePropagation();
  };
  window.addEventListener('keydown', onKey, true);
  return () => {
    window.removeEventListener('keydown', onKey, true);
    return { text, cancelled };
  };
}

// What Monaco's `@IInstantiationService`/`@ICodeEditorService` parameter decorators do: the
// instantiation service passes these services to the constructor.
IInstantiationService(StandaloneQuickInputService, undefined, 0);
ICodeEditorService(StandaloneQuickInputService, undefined, 1);
