import { normalizeProjectPath } from '@tandem/protocol';
import type { ProjectFile } from './WorkingCopy.ts';

export interface ResolvedRunCommand {
  /** Shell command run with /bin/sh -c in /project. */
  command: string;
  /** Which rule chose it, for the UI ("from tandem.json", …). */
  source: 'tandem.json' | 'package.json start' | 'package.json main' | 'main.py' | 'index.js' | 'main.js';
}

const MAX_COMMAND_CHARS = 4096;

/** POSIX single-quoting for a file name placed in a shell command. */
function shellQuote(s: string): string {
  return /^[A-Za-z0-9_./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

function parseJsonObject(text: string): Record<string, unknown> | null {
  try {
    const v: unknown = JSON.parse(text);
    return v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

function usableCommand(v: unknown): v is string {
  return typeof v === 'string' && v.trim().length > 0 && v.length <= MAX_COMMAND_CHARS && !v.includes('\0');
}

/**
 * Picks how to run a project from its files, first match wins:
 * tandem.json `run` → package.json `scripts.start` (`npm start`, works offline) → package.json
 * `main` → main.py → index.js → main.js. Only root-level files count. Null when nothing fits.
 */
export function resolveRunCommand(files: readonly ProjectFile[]): ResolvedRunCommand | null {
  const byPath = new Map<string, string>();
  for (const f of files) {
    const p = normalizeProjectPath(f.path);
    if (p && typeof f.content === 'string') byPath.set(p, f.content);
  }

  const tandem = byPath.has('tandem.json') ? parseJsonObject(byPath.get('tandem.json')!) : null;
  if (tandem && usableCommand(tandem.run)) return { command: tandem.run.trim(), source: 'tandem.json' };

  const pkg = byPath.has('package.json') ? parseJsonObject(byPath.get('package.json')!) : null;
  if (pkg) {
    const scripts = pkg.scripts && typeof pkg.scripts === 'object' ? (pkg.scripts as Record<string, unknown>) : {};
    if (usableCommand(scripts.start)) return { command: 'npm start', source: 'package.json start' };
    if (typeof pkg.main === 'string') {
      const main = normalizeProjectPath(pkg.main.replace(/^\.\//, ''));
      if (main && byPath.has(main)) return { command: `node ${shellQuote(main)}`, source: 'package.json main' };
    }
  }

  if (byPath.has('main.py')) return { command: 'python3 main.py', source: 'main.py' };
  if (byPath.has('index.js')) return { command: 'node index.js', source: 'index.js' };
  if (byPath.has('main.js')) return { command: 'node main.js', source: 'main.js' };
  return null;
}
