import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import type * as Y from 'yjs';
import { FILE_TEXT, LSP_PROJECT_URI_PREFIX, lspUriOf, lspUriPath } from '@tandem/protocol';
import type { SandboxProcess, SpawnOptions } from '@tandem/sandbox';
import type { LiveProjectFiles } from '../sandbox/LiveProjectFiles.ts';
import { encodeLspMessage, LspMessageReader } from './lspFraming.ts';
import type { LspLimits } from './lspLimits.ts';

/** The part of the SandboxHost a language server needs (structural, so tests can pass the real host). */
export interface ProcessHost {
  spawn(projectId: string, argv: readonly string[], options: SpawnOptions): Promise<SandboxProcess>;
}

/** The project's live files, decoded once per change (the app's one LiveProjectFiles). */
export type ProjectFiles = Pick<LiveProjectFiles, 'tree' | 'texts'>;

/** Copies the live documents into the project's working copy when they changed (SandboxService). */
export interface WorkingCopySync {
  syncIfChanged(projectId: string): Promise<boolean>;
}

/** One browser tab's end of the language server (the WebSocket, adapted by the app). */
export interface LspPeer {
  send(text: string): void;
}

const PYRIGHT_DIR = dirname(createRequire(import.meta.url).resolve('pyright/package.json'));
const INITIALIZE_TIMEOUT_MS = 60_000;
const CHANGE_DEBOUNCE_MS = 150;
const TREE_DEBOUNCE_MS = 300;

const isPython = (path: string): boolean => path.endsWith('.py') || path.endsWith('.pyi');


interface OpenFile {
  path: string;
  uri: string;
  version: number;
  timer: NodeJS.Timeout | null;
}

type JsonRpcId = number | string;
interface JsonRpcMessage {
  id?: JsonRpcId;
  method?: string;
  params?: unknown;
  result?: unknown;
  error?: unknown;
}

/**
 * pyright for one project, in the project's sandbox. The server, not the browsers, tells it what
 * the files say: every Python file of the project is opened from the live Yjs documents and each
 * change is sent as it happens, so every participant gets the same diagnostics (broadcast to all
 * attached peers, and replayed to a peer that attaches later). Peers only ask questions (hover,
 * completion, definition); their request ids are remapped so answers reach the peer that asked.
 */
export class PythonLanguageServer {
  readonly ready: Promise<void>;
  /** Settles when the process is gone (stopped, crashed or killed at a limit). */
  readonly stopped: Promise<void>;
  private readonly peers = new Set<LspPeer>();
  private readonly pending = new Map<number, { peer: LspPeer; id: JsonRpcId }>();
  /** The latest publishDiagnostics message per project path, as sent to peers. */
  private readonly diagnostics = new Map<string, string>();
  private readonly files = new Map<string, OpenFile>();
  private nextId = 1;
  private treeTimer: NodeJS.Timeout | null = null;
  private treeSync: Promise<void> = Promise.resolve();
  private process: SandboxProcess | null = null;
  private stopping = false;
  private resolveStopped!: () => void;

  constructor(
    readonly projectId: string,
    private readonly deps: { host: ProcessHost; files: ProjectFiles; workingCopy: WorkingCopySync; limits: LspLimits; log: (message: string) => void },
  ) {
    this.stopped = new Promise((resolve) => (this.resolveStopped = resolve));
    this.ready = this.start();
    this.ready.catch(() => this.stop());
  }

  get peerCount(): number {
    return this.peers.size;
  }

  attach(peer: LspPeer): void {
    this.peers.add(peer);
    for (const text of this.diagnostics.values()) peer.send(text);
  }

  detach(peer: LspPeer): void {
    this.peers.delete(peer);
    for (const [id, p] of this.pending) if (p.peer === peer) this.pending.delete(id);
  }

  /** Requests of `peer` waiting for an answer. */
  pendingOf(peer: LspPeer): number {
    let n = 0;
    for (const p of this.pending.values()) if (p.peer === peer) n++;
    return n;
  }

  /** Forwards a peer's request under a fresh id; the answer goes back to that peer only. */
  request(peer: LspPeer, id: JsonRpcId, method: string, params: unknown): void {
    const serverId = this.nextId++;
    this.pending.set(serverId, { peer, id });
    this.write({ jsonrpc: '2.0', id: serverId, method, params });
  }

  /** A peer gave up on one of its requests. */
  cancel(peer: LspPeer, id: JsonRpcId): void {
    for (const [serverId, p] of this.pending) {
      if (p.peer === peer && p.id === id) this.write({ jsonrpc: '2.0', method: '$/cancelRequest', params: { id: serverId } });
    }
  }

  /** Whether `uri` names a project file the server has open (peers may ask about nothing else). */
  isOpen(uri: string): boolean {
    const path = lspUriPath(uri);
    for (const f of this.files.values()) if (f.path === path) return true;
    return false;
  }

  /** A file document of this project changed: send its new text (debounced). */
  fileChanged(fileId: string, doc: Y.Doc): void {
    const file = this.files.get(fileId);
    if (!file) return;
    if (file.timer) clearTimeout(file.timer);
    file.timer = setTimeout(() => {
      file.timer = null;
      const text = doc.getText(FILE_TEXT).toString();
      if (Buffer.byteLength(text) > this.deps.limits.maxFileBytes || !this.files.has(fileId)) return;
      this.write({
        jsonrpc: '2.0', method: 'textDocument/didChange',
        params: { textDocument: { uri: file.uri, version: ++file.version }, contentChanges: [{ text }] },
      });
    }, CHANGE_DEBOUNCE_MS);
  }

  /** The project tree changed: open, close or move files (debounced). */
  treeChanged(): void {
    if (this.treeTimer) clearTimeout(this.treeTimer);
    this.treeTimer = setTimeout(() => {
      this.treeTimer = null;
      this.treeSync = this.treeSync.then(() => this.syncFiles()).catch((e: unknown) => this.deps.log(`reading ${this.projectId}'s files failed: ${String(e)}`));
    }, TREE_DEBOUNCE_MS);
  }

  stop(): void {
    this.stopping = true;
    if (this.treeTimer) clearTimeout(this.treeTimer);
    for (const f of this.files.values()) if (f.timer) clearTimeout(f.timer);
    this.process?.kill();
    if (!this.process) this.resolveStopped();
  }

  private async start(): Promise<void> {
    const { limits } = this.deps;
    // pyright resolves imports on disk: the working copy must hold the project's files (their
    // text comes from the documents through didOpen/didChange).
    await this.deps.workingCopy.syncIfChanged(this.projectId);
    // V8's heap stays below the cgroup's memory limit, so pyright collects garbage before it is OOM-killed.
    const argv = ['/usr/bin/node', `--max-old-space-size=${Math.floor((limits.memoryBytes * 0.75) / 2 ** 20)}`, `${PYRIGHT_DIR}/langserver.index.js`, '--stdio'];
    const proc = await this.deps.host.spawn(this.projectId, argv, {
      helper: true, binds: [{ src: PYRIGHT_DIR, dest: PYRIGHT_DIR }], limits: { memoryBytes: limits.memoryBytes },
    });
    this.process = proc;
    void proc.done.then(({ oom }) => {
      if (!this.stopping) this.deps.log(`pyright for ${this.projectId} ended unexpectedly${oom ? ' (out of memory)' : ''}`);
      this.stopping = true;
      this.resolveStopped();
    });
    if (this.stopping) proc.kill();
    const reader = new LspMessageReader(limits.maxServerMessageBytes, (m) => this.received(m as JsonRpcMessage), (reason) => {
      this.deps.log(`pyright for ${this.projectId} sent a bad message (${reason}); stopping it`);
      this.stop();
    });
    proc.stdout.on('data', (chunk: Buffer) => reader.push(chunk));
    const initialized = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('pyright did not initialize in time')), INITIALIZE_TIMEOUT_MS);
      void this.stopped.then(() => reject(new Error('pyright stopped while starting')));
      this.pending.set(0, { peer: { send: () => { clearTimeout(timer); resolve(); } }, id: 0 });
    });
    this.write({
      jsonrpc: '2.0', id: 0, method: 'initialize',
      params: {
        processId: null, rootUri: LSP_PROJECT_URI_PREFIX.slice(0, -1),
        workspaceFolders: [{ uri: LSP_PROJECT_URI_PREFIX.slice(0, -1), name: 'project' }],
        capabilities: {
          textDocument: {
            publishDiagnostics: {},
            hover: { contentFormat: ['markdown', 'plaintext'] },
            completion: { completionItem: { documentationFormat: ['markdown', 'plaintext'] } },
            definition: {},
          },
        },
      },
    });
    await initialized;
    this.write({ jsonrpc: '2.0', method: 'initialized', params: {} });
    await this.syncFiles();
  }

  private received(message: JsonRpcMessage): void {
    if (message.method !== undefined && message.id !== undefined) {
      // pyright asks the client for settings and capability registrations: defaults for all.
      const items = (message.params as { items?: unknown[] } | undefined)?.items;
      this.write({ jsonrpc: '2.0', id: message.id, result: message.method === 'workspace/configuration' && Array.isArray(items) ? items.map(() => null) : null });
      return;
    }
    if (message.method === 'textDocument/publishDiagnostics') {
      const uri = (message.params as { uri?: unknown } | undefined)?.uri;
      if (typeof uri !== 'string' || !this.isOpen(uri)) return;
      const text = JSON.stringify(message);
      this.diagnostics.set(lspUriPath(uri)!, text);
      for (const peer of this.peers) peer.send(text);
      return;
    }
    if (message.method !== undefined || typeof message.id !== 'number') return; // logs and progress
    const pending = this.pending.get(message.id);
    if (!pending) return;
    this.pending.delete(message.id);
    let text = JSON.stringify({ jsonrpc: '2.0', id: pending.id, ...(message.error !== undefined ? { error: message.error } : { result: message.result ?? null }) });
    if (text.length > this.deps.limits.maxResponseBytes) {
      text = JSON.stringify({ jsonrpc: '2.0', id: pending.id, error: { code: -32803, message: 'The answer is too large to send.' } });
    }
    pending.peer.send(text);
  }

  /** Opens every Python file of the project (up to the cap) from the live documents; closes those gone. */
  private async syncFiles(): Promise<void> {
    const { files, limits } = this.deps;
    const { entries } = await files.tree(this.projectId);
    const wanted = new Map([...entries].filter(([, e]) => e.kind === 'file' && isPython(e.path)).slice(0, limits.maxFiles));
    await this.deps.workingCopy.syncIfChanged(this.projectId);
    // Files that appeared or went: pyright forgets what it resolved against them.
    const watched: { uri: string; type: number }[] = [];
    for (const [fileId, file] of this.files) {
      if (wanted.get(fileId)?.path === file.path) continue;
      watched.push({ uri: file.uri, type: 3 });
      this.files.delete(fileId);
      if (file.timer) clearTimeout(file.timer);
      this.write({ jsonrpc: '2.0', method: 'textDocument/didClose', params: { textDocument: { uri: file.uri } } });
      if (this.diagnostics.delete(file.path)) {
        const cleared = JSON.stringify({ jsonrpc: '2.0', method: 'textDocument/publishDiagnostics', params: { uri: file.uri, diagnostics: [] } });
        for (const peer of this.peers) peer.send(cleared);
      }
    }
    const opening = [...wanted].filter(([fileId]) => !this.files.has(fileId));
    const texts = await files.texts(this.projectId, opening.map(([fileId]) => fileId));
    for (const [fileId, entry] of opening) {
      const text = texts.get(fileId);
      if (text === undefined || this.files.has(fileId) || this.stopping) continue;
      if (Buffer.byteLength(text) > limits.maxFileBytes) continue;
      const file: OpenFile = { path: entry.path, uri: lspUriOf(entry.path), version: 1, timer: null };
      this.files.set(fileId, file);
      this.write({ jsonrpc: '2.0', method: 'textDocument/didOpen', params: { textDocument: { uri: file.uri, languageId: 'python', version: 1, text } } });
      watched.push({ uri: file.uri, type: 1 });
    }
    if (watched.length) this.write({ jsonrpc: '2.0', method: 'workspace/didChangeWatchedFiles', params: { changes: watched } });
  }

  private write(message: object): void {
    if (!this.process || this.stopping) return;
    this.process.stdin.write(encodeLspMessage(message));
  }
}
