import * as monaco from '@/lib/ide/monaco';
import { errorMessage, trpc } from '@/lib/trpc';
import { ProjectModels, type ShadowEdit } from './ProjectModels';
import { problemsStore, type Problem } from './problemsStore';

/** How often the sources of files nobody here has open are refreshed from the server. */
const REFRESH_MS = 15_000;

let configured = false;

/** One compiler setup for every project: JS and TS, modules resolved like Node/bundlers do. */
function configureTypeScript(): void {
  if (configured) return;
  configured = true;
  const ts = monaco.typescript;
  const options: monaco.typescript.CompilerOptions = {
    target: ts.ScriptTarget.ESNext,
    module: ts.ModuleKind.ESNext,
    moduleResolution: ts.ModuleResolutionKind.NodeJs,
    allowJs: true,
    allowNonTsExtensions: true,
    esModuleInterop: true,
    resolveJsonModule: true,
    jsx: ts.JsxEmit.ReactJSX,
    strict: true,
    skipLibCheck: true,
  };
  for (const defaults of [ts.typescriptDefaults, ts.javascriptDefaults]) {
    defaults.setCompilerOptions(options);
    // The worker gets every model, not only the one in the editor: cross-file intelligence.
    defaults.setEagerModelSync(true);
  }
}

export interface CodeIntelligenceHost {
  /** Opens a project file at a position (go to definition into another file), in the editor group of `source`. */
  open(path: string, position: { line: number; column: number } | null, source: monaco.editor.ICodeEditor): boolean;
  /** Something went wrong the user should know about (e.g. a rename could not reach a file). */
  problem(message: string): void;
}

async function sha256(text: string): Promise<string> {
  const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(text));
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, '0')).join('');
}

/**
 * Cross-file JavaScript/TypeScript intelligence for one project in this tab: every source file is
 * a model at its path (ProjectModels; shadows refreshed from the server), so Monaco's TypeScript
 * worker resolves imports; go to definition into another file opens its tab; diagnostics of every
 * file feed the Problems panel.
 */
export class CodeIntelligence {
  readonly #disposables: monaco.IDisposable[] = [];
  readonly #timer: ReturnType<typeof setInterval>;
  #disposed = false;

  constructor(private readonly projectId: string, private readonly models: ProjectModels, private readonly host: CodeIntelligenceHost) {
    configureTypeScript();
    this.#disposables.push(
      monaco.editor.registerEditorOpener({
        openCodeEditor: (source, resource, selectionOrPosition) => {
          const path = ProjectModels.pathOf(resource);
          if (!path) return false;
          const position = !selectionOrPosition ? null
            : 'startLineNumber' in selectionOrPosition ? { line: selectionOrPosition.startLineNumber, column: selectionOrPosition.startColumn }
              : { line: selectionOrPosition.lineNumber, column: selectionOrPosition.column };
          return host.open(path, position, source);
        },
      }),
      monaco.editor.onDidChangeMarkers(() => this.#publishProblems()),
    );
    void this.refresh();
    this.#timer = setInterval(() => {
      if (document.visibilityState === 'visible') void this.refresh();
    }, REFRESH_MS);
  }

  /** Fetches the project's sources for the files not open here (call when the tree changes). */
  async refresh(): Promise<void> {
    try {
      const { files } = await trpc.search.sources.query({ projectId: this.projectId });
      if (!this.#disposed) this.models.syncShadows(files);
    } catch (e) {
      console.warn('[code intelligence] could not load the project sources:', errorMessage(e));
    }
  }

  /** A rename (or another multi-file edit) changed a file not open here: apply it to the shared document. */
  async applyShadowEdit(edit: ShadowEdit): Promise<void> {
    try {
      await trpc.search.applyEdits.mutate({ projectId: this.projectId, path: edit.path, baseSha256: await sha256(edit.base), edits: edit.edits });
    } catch (e) {
      this.host.problem(`${edit.path}: ${errorMessage(e)}`);
      await this.refresh(); // put the server's text back in the shadow
    }
  }

  dispose(): void {
    this.#disposed = true;
    clearInterval(this.#timer);
    for (const d of this.#disposables) d.dispose();
    problemsStore.set([]);
  }

  #publishProblems(): void {
    const problems: Problem[] = [];
    for (const m of monaco.editor.getModelMarkers({})) {
      const path = ProjectModels.pathOf(m.resource);
      if (!path) continue;
      problems.push({
        path, line: m.startLineNumber, column: m.startColumn, message: m.message, source: m.source ?? m.owner,
        severity: m.severity === monaco.MarkerSeverity.Error ? 'error' : m.severity === monaco.MarkerSeverity.Warning ? 'warning' : 'info',
      });
    }
    problems.sort((a, b) => a.path.localeCompare(b.path) || a.line - b.line || a.column - b.column);
    problemsStore.set(problems);
  }
}
