/**
 * Tells Monaco how to start its web workers. Monaco is bundled locally (never from a CDN); with
 * Turbopack the workers must be created from `new URL(..., import.meta.url)` so the bundler emits
 * them. Language services without a dedicated worker use the generic editor worker.
 */
export function installMonacoEnvironment(): void {
  const scope = self as unknown as { MonacoEnvironment?: { getWorker(workerId: string, label: string): Worker } };
  if (scope.MonacoEnvironment) return;
  ignoreMonacoCancellations();
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

/**
 * Monaco cancels its own pending work with a `CancellationError` (name and message "Canceled"),
 * and some of its async callbacks let that rejection go unhandled (e.g. the inline-completion
 * controller's 50 ms screen-reader delay when the ghost text changes again). VS Code's global error
 * handler ignores these; without one, every keystroke during streamed completions logged an
 * "Uncaught (in promise) Canceled". Only that exact error is swallowed; anything else still surfaces.
 */
function ignoreMonacoCancellations(): void {
  window.addEventListener('unhandledrejection', (event) => {
    const reason: unknown = event.reason;
    if (reason instanceof Error && reason.name === 'Canceled' && reason.message === 'Canceled') event.preventDefault();
  });
}
