/**
 * Stands in for monaco-editor's `internal/common/workers.js` (next.config.ts aliases it here). The
 * original gives the language services (TypeScript, JSON, CSS, HTML) their `createWebWorker`, but
 * first imports every editor contribution (editor.all: the diff editor, code lens, inlay hints…),
 * ~290 KiB gzipped the IDE does not use, loaded as soon as a language service starts. This is
 * the same function without that import: the IDE's contributions are in monaco.ts, and its
 * workers come from MonacoEnvironment.getWorker (monacoEnvironment.ts).
 */
import { editor } from 'monaco-editor/editor/editor.api.js';

interface WorkerOptions {
  label?: string;
  moduleId?: string;
  createWorker?: () => Worker;
  createData?: unknown;
  host?: Record<string, (...args: unknown[]) => unknown>;
  keepIdleModels?: boolean;
}

function getWorker(label: string, createWorker?: () => Worker): Worker {
  const environment = (globalThis as { MonacoEnvironment?: { getWorker?(workerId: string, label: string): Worker } }).MonacoEnvironment;
  if (environment?.getWorker) return environment.getWorker('workerMain.js', label);
  if (createWorker) return createWorker();
  throw new Error('MonacoEnvironment.getWorker is not defined');
}

export function createWebWorker<T extends object>(opts: WorkerOptions): editor.MonacoWebWorker<T> {
  const worker = Promise.resolve(getWorker(opts.label ?? 'monaco-editor-worker', opts.createWorker)).then((w) => {
    w.postMessage('ignore');
    w.postMessage(opts.createData);
    return w;
  });
  return editor.createWebWorker<T>({ worker, host: opts.host, keepIdleModels: opts.keepIdleModels });
}
