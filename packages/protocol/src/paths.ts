/**
 * Project file paths: forward slashes, relative, no `.`/`..` segments, no empty segments.
 * Returns the normalized path or null when the path is not acceptable.
 */
export function normalizeProjectPath(input: string): string | null {
  const trimmed = input.trim().replace(/\\/g, '/').replace(/^\/+|\/+$/g, '');
  if (!trimmed || trimmed.length > 512) return null;
  const parts = trimmed.split('/');
  for (const p of parts) {
    if (!p || p === '.' || p === '..' || p.length > 255) return null;
    if (/[\u0000-\u001f]/.test(p)) return null;
  }
  return parts.join('/');
}

const LANGUAGES: Record<string, string> = {
  ts: 'typescript', tsx: 'typescript', mts: 'typescript', cts: 'typescript',
  js: 'javascript', jsx: 'javascript', mjs: 'javascript', cjs: 'javascript',
  json: 'json', md: 'markdown', css: 'css', scss: 'scss', less: 'less', html: 'html', htm: 'html',
  py: 'python', rs: 'rust', go: 'go', java: 'java', c: 'c', h: 'c', cpp: 'cpp', cc: 'cpp', hpp: 'cpp',
  cs: 'csharp', rb: 'ruby', php: 'php', sh: 'shell', bash: 'shell', yml: 'yaml', yaml: 'yaml',
  sql: 'sql', xml: 'xml', svg: 'xml', toml: 'ini', ini: 'ini', kt: 'kotlin', swift: 'swift',
  lua: 'lua', r: 'r', dockerfile: 'dockerfile', graphql: 'graphql', tex: 'latex',
};

/** Monaco language id from a file path (by extension, or the whole name for e.g. Dockerfile). */
export function languageForPath(path: string): string {
  const name = path.split('/').pop()!.toLowerCase();
  const ext = name.includes('.') ? name.slice(name.lastIndexOf('.') + 1) : name;
  return LANGUAGES[ext] ?? 'plaintext';
}

/** Heuristic used on upload/import: NUL bytes or invalid UTF-8 mean binary. */
export function looksBinary(bytes: Uint8Array): boolean {
  const n = Math.min(bytes.length, 8000);
  for (let i = 0; i < n; i++) if (bytes[i] === 0) return true;
  try {
    new TextDecoder('utf-8', { fatal: true }).decode(bytes);
    return false;
  } catch {
    return true;
  }
}
