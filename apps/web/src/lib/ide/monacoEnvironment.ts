/**
 * Tells Monaco how to start its web workers. Monaco is bundled locally (never from a CDN); with
 * Turbopack the workers must be created from `new URL(..., import.meta.url)` so the bundler emits
 * them. Language services without a dedicated worker use the generic editor worker.
 */
export function installMonacoEnvironment(): void {
  const scope = self as unknown as { MonacoEnvironment?: { getWorker(workerId: string, label: string): Worker } };
  if (scope.MonacoEnvironment) return;
  scope.MonacoEnvironment = {
    getWorker(_workerId: string, label: string): Worker {
      switch (label) {
        case 'typescript':
        case 'javascript':
          return new Worker(new URL('monaco-editor/language/typescript/ts.worker.js', import.meta.url), { type: 'module' });
        case 'json':
          return new Worker(new URL('monaco-editor/language/json/json.worker.js', import.meta.url), { type: 'module' });
        case 'css':
        case 'scss':
        case 'less':
          return new Worker(new URL('monaco-editor/language/css/css.worker.js', import.meta.url), { type: 'module' });
        case 'html':
        case 'handlebars':
        case 'razor':
          return new Worker(new URL('monaco-editor/language/html/html.worker.js', import.meta.url), { type: 'module' });
        default:
          return new Worker(new URL('monaco-editor/editor/editor.worker.js', import.meta.url), { type: 'module' });
      }
    },
  };
}
