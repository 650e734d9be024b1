/** WebSocket endpoint of a project's Python language server: `/lsp/python/<projectId>` (JSON-RPC text frames). */
export const LSP_PYTHON_PATH_PREFIX = '/lsp/python/';

/** How the language server names project files: `file:///project/<path>` (the sandbox's view). */
export const LSP_PROJECT_URI_PREFIX = 'file:///project/';

/** The project path a language-server URI names (escaping may differ between peers), or null. */
export function lspUriPath(uri: string): string | null {
  if (!uri.startsWith(LSP_PROJECT_URI_PREFIX)) return null;
  try {
    return decodeURIComponent(uri.slice(LSP_PROJECT_URI_PREFIX.length));
  } catch {
    return null;
  }
}

export function lspUriOf(path: string): string {
  return LSP_PROJECT_URI_PREFIX + path.split('/').map(encodeURIComponent).join('/');
}
