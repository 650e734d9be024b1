import type * as Monaco from 'monaco-editor';
import { LSP_PYTHON_PATH_PREFIX, isFinalCloseCode, lspUriOf, lspUriPath } from '@tandem/protocol';

/** Loaded on demand (only once a Python file is shown): Monaco's namespace is passed in. */
/** The IDE's Monaco entry (its features and languages), passed in so this module loads only with Python files. */
type MonacoApi = typeof import('@/lib/ide/monaco');

interface LspPosition { line: number; character: number }
interface LspRange { start: LspPosition; end: LspPosition }
interface LspDiagnostic { range: LspRange; message: string; severity?: number; code?: string | number; source?: string }
type LspMarkup = string | { kind?: string; language?: string; value: string };
interface LspCompletionItem {
  label: string;
  kind?: number;
  detail?: string;
  documentation?: LspMarkup;
  sortText?: string;
  filterText?: string;
  insertText?: string;
  textEdit?: { newText: string };
}
type LspLocation = { uri: string; range: LspRange } | { targetUri: string; targetSelectionRange: LspRange };
interface RpcMessage { id?: number; method?: string; params?: unknown; result?: unknown; error?: { message: string } }

const REQUEST_TIMEOUT_MS = 15_000;
const RETRY_MS = [1000, 3000, 10_000, 30_000];
const MARKER_OWNER = 'pyright';

/** Where the editor keeps a project file's model (ProjectModels: `file:///<path>`). */
export interface PythonClientHost {
  pathOf(uri: Monaco.Uri): string | null;
  uriOf(path: string): Monaco.Uri;
}

/**
 * The tab's end of the project's Python language server (pyright on the server, one per project).
 * The server feeds pyright the live documents, so this client never sends text: it shows the
 * diagnostics everyone gets (as Monaco markers, which also fill the Problems list) and asks
 * hover, completion and go-to-definition questions about the file shown.
 */
export class PythonLanguageClient {
  readonly #pending = new Map<number, { resolve(m: RpcMessage): void; timer: ReturnType<typeof setTimeout> }>();
  /** Latest diagnostics per project path, re-applied when a model for that path appears. */
  readonly #diagnostics = new Map<string, LspDiagnostic[]>();
  readonly #disposables: Monaco.IDisposable[] = [];
  #ws: WebSocket | null = null;
  #nextId = 1;
  #retries = 0;
  #retryTimer: ReturnType<typeof setTimeout> | null = null;
  #disposed = false;

  constructor(private readonly monaco: MonacoApi, private readonly projectId: string, private readonly host: PythonClientHost) {
    const { languages, editor } = monaco;
    this.#disposables.push(
      languages.registerHoverProvider('python', {
        provideHover: async (model, position, token) => {
          const result = await this.#ask(model, 'textDocument/hover', position, token) as { contents?: LspMarkup | LspMarkup[]; range?: LspRange } | null;
          if (!result?.contents) return null;
          const contents = (Array.isArray(result.contents) ? result.contents : [result.contents]).map(toMarkdown).filter((c) => c.value);
          return contents.length ? { contents, range: result.range ? toRange(result.range) : undefined } : null;
        },
      }),
      languages.registerCompletionItemProvider('python', {
        triggerCharacters: ['.'],
        provideCompletionItems: async (model, position, _context, token) => {
          const result = await this.#ask(model, 'textDocument/completion', position, token) as LspCompletionItem[] | { items?: LspCompletionItem[] } | null;
          const items = Array.isArray(result) ? result : result?.items ?? [];
          const word = model.getWordUntilPosition(position);
          const range = new monaco.Range(position.lineNumber, word.startColumn, position.lineNumber, word.endColumn);
          return {
            suggestions: items.map((item) => ({
              label: item.label,
              kind: completionKind(monaco, item.kind),
              detail: item.detail,
              documentation: item.documentation ? toMarkdown(item.documentation) : undefined,
              sortText: item.sortText,
              filterText: item.filterText,
              insertText: item.textEdit?.newText ?? item.insertText ?? item.label,
              range,
            })),
          };
        },
      }),
      languages.registerDefinitionProvider('python', {
        provideDefinition: async (model, position, token) => {
          const result = await this.#ask(model, 'textDocument/definition', position, token) as LspLocation | LspLocation[] | null;
          const locations = !result ? [] : Array.isArray(result) ? result : [result];
          return locations.flatMap((l) => {
            const [uri, range] = 'targetUri' in l ? [l.targetUri, l.targetSelectionRange] : [l.uri, l.range];
            // Only project files open in the IDE; library stubs live in the server's sandbox.
            const path = lspUriPath(uri);
            return path === null ? [] : [{ uri: host.uriOf(path), range: toRange(range) }];
          });
        },
      }),
      editor.onDidCreateModel((model) => {
        const path = host.pathOf(model.uri);
        if (path !== null && this.#diagnostics.has(path)) this.#mark(path);
      }),
    );
    this.#connect();
  }

  dispose(): void {
    this.#disposed = true;
    if (this.#retryTimer) clearTimeout(this.#retryTimer);
    this.#ws?.close();
    for (const d of this.#disposables) d.dispose();
    for (const path of this.#diagnostics.keys()) {
      const model = this.monaco.editor.getModel(this.host.uriOf(path));
      if (model) this.monaco.editor.setModelMarkers(model, MARKER_OWNER, []);
    }
    for (const p of this.#pending.values()) clearTimeout(p.timer);
  }

  #connect(): void {
    const url = `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}${LSP_PYTHON_PATH_PREFIX}${encodeURIComponent(this.projectId)}`;
    const ws = new WebSocket(url);
    this.#ws = ws;
    ws.onopen = () => (this.#retries = 0);
    ws.onmessage = (e) => {
      if (typeof e.data !== 'string') return;
      let message: RpcMessage;
      try {
        message = JSON.parse(e.data) as RpcMessage;
      } catch {
        return;
      }
      if (message.method === 'textDocument/publishDiagnostics') {
        const { uri, diagnostics } = message.params as { uri: string; diagnostics: LspDiagnostic[] };
        const path = lspUriPath(uri);
        if (path === null) return;
        this.#diagnostics.set(path, diagnostics);
        this.#mark(path);
      } else if (typeof message.id === 'number') {
        const pending = this.#pending.get(message.id);
        if (!pending) return;
        this.#pending.delete(message.id);
        clearTimeout(pending.timer);
        pending.resolve(message);
      }
    };
    ws.onclose = (e) => {
      if (this.#ws !== ws) return;
      this.#ws = null;
      for (const [id, p] of this.#pending) {
        clearTimeout(p.timer);
        p.resolve({ id, result: null });
      }
      this.#pending.clear();
      if (this.#disposed || isFinalCloseCode(e.code) || this.#retries >= RETRY_MS.length) {
        if (!this.#disposed) console.warn(`[python] language server unavailable: ${e.reason || `closed (${e.code})`}`);
        return;
      }
      this.#retryTimer = setTimeout(() => this.#connect(), RETRY_MS[this.#retries++]);
    };
  }

  /** One question about a position of a Python file of the project; null when there is no answer. */
  #ask(model: Monaco.editor.ITextModel, method: string, position: Monaco.Position, token: Monaco.CancellationToken): Promise<unknown> {
    const path = this.host.pathOf(model.uri);
    const ws = this.#ws;
    if (path === null || !ws || ws.readyState !== WebSocket.OPEN) return Promise.resolve(null);
    const id = this.#nextId++;
    ws.send(JSON.stringify({
      jsonrpc: '2.0', id, method,
      params: { textDocument: { uri: lspUriOf(path) }, position: { line: position.lineNumber - 1, character: position.column - 1 } },
    }));
    token.onCancellationRequested(() => {
      if (this.#pending.has(id) && ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify({ jsonrpc: '2.0', method: '$/cancelRequest', params: { id } }));
    });
    return new Promise<RpcMessage>((resolve) => {
      const timer = setTimeout(() => {
        this.#pending.delete(id);
        resolve({ id, result: null });
      }, REQUEST_TIMEOUT_MS);
      this.#pending.set(id, { resolve, timer });
    }).then((m) => (m.error ? null : m.result ?? null));
  }

  #mark(path: string): void {
    const model = this.monaco.editor.getModel(this.host.uriOf(path));
    if (!model) return;
    const { MarkerSeverity } = this.monaco;
    const severity = [MarkerSeverity.Error, MarkerSeverity.Error, MarkerSeverity.Warning, MarkerSeverity.Info, MarkerSeverity.Hint];
    this.monaco.editor.setModelMarkers(model, MARKER_OWNER, (this.#diagnostics.get(path) ?? []).map((d) => ({
      ...toRange(d.range),
      message: d.message,
      severity: severity[d.severity ?? 1] ?? MarkerSeverity.Error,
      source: d.source ?? 'Pyright',
      code: d.code === undefined ? undefined : String(d.code),
    })));
  }

}

function toRange(r: LspRange): Monaco.IRange {
  return { startLineNumber: r.start.line + 1, startColumn: r.start.character + 1, endLineNumber: r.end.line + 1, endColumn: r.end.character + 1 };
}

function toMarkdown(m: LspMarkup): Monaco.IMarkdownString {
  if (typeof m === 'string') return { value: m };
  if (m.language) return { value: '```' + m.language + '\n' + m.value + '\n```' };
  return { value: m.kind === 'plaintext' ? m.value.replace(/[\\`*_{}[\]()#+\-.!<>]/g, '\\$&') : m.value };
}

/** LSP CompletionItemKind (1-based) → Monaco's. */
function completionKind(monaco: MonacoApi, kind: number | undefined): Monaco.languages.CompletionItemKind {
  const K = monaco.languages.CompletionItemKind;
  const table = [K.Text, K.Text, K.Method, K.Function, K.Constructor, K.Field, K.Variable, K.Class, K.Interface, K.Module, K.Property,
    K.Unit, K.Value, K.Enum, K.Keyword, K.Snippet, K.Color, K.File, K.Reference, K.Folder, K.EnumMember, K.Constant, K.Struct, K.Event,
    K.Operator, K.TypeParameter];
  return table[kind ?? 1] ?? K.Text;
}
