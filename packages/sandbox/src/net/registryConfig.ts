import { execFile } from 'node:child_process';

export interface RegistryConfig {
  /** Host names (with a port when not 80/443) the sandbox must reach to install packages. */
  hosts: string[];
  /** npm/pip settings for the sandbox, so it uses the same registries/mirrors as the host. */
  env: Record<string, string>;
  /** What was found, for the start-up log. */
  notes: string[];
}

const PYPI_DEFAULT = ['pypi.org', 'files.pythonhosted.org'];

function run(cmd: string, args: string[], timeoutMs: number): Promise<string | null> {
  return new Promise((resolve) => {
    // cwd /: the host's user/global configuration, not whatever project the server was started in.
    execFile(cmd, args, { timeout: timeoutMs, maxBuffer: 256 * 1024, cwd: '/' }, (err, stdout) => resolve(err ? null : stdout));
  });
}

function hostOf(url: string): string | null {
  try {
    const u = new URL(url);
    if (u.protocol !== 'http:' && u.protocol !== 'https:') return null;
    return u.port ? `${u.hostname}:${u.port}` : u.hostname;
  } catch {
    return null;
  }
}

/** Parses `pip config list` output (`scope.key='value'` lines). */
export function parsePipConfig(text: string): { indexUrl: string | null; extraIndexUrls: string[] } {
  let indexUrl: string | null = null;
  const extra: string[] = [];
  for (const line of text.split('\n')) {
    const m = /^[^.]*\.(index-url|extra-index-url)='(.*)'$/.exec(line.trim());
    if (!m) continue;
    if (m[1] === 'index-url') indexUrl = m[2]!.trim();
    else extra.push(...m[2]!.split(/\s+/).filter(Boolean));
  }
  return { indexUrl, extraIndexUrls: extra };
}

/**
 * The package registries this server's host is configured to use, read from npm's and pip's own
 * configuration (`npm config get registry`, `pip config list`) at start-up, so mirrors and private
 * registries work without hard-coded names. Only http(s) indexes count (file:// ones are not
 * reachable from a sandbox anyway).
 */
export async function discoverRegistries(options: { npm?: string; python?: string; timeoutMs?: number } = {}): Promise<RegistryConfig> {
  const timeoutMs = options.timeoutMs ?? 10_000;
  const [npmOut, pipOut] = await Promise.all([
    run(options.npm ?? 'npm', ['config', 'get', 'registry', '--workspaces=false'], timeoutMs),
    run(options.python ?? 'python3', ['-m', 'pip', 'config', 'list'], timeoutMs),
  ]);
  const hosts = new Set<string>();
  const env: Record<string, string> = {};
  const notes: string[] = [];
  const npmRegistry = npmOut?.trim() || 'https://registry.npmjs.org/';
  const npmHost = hostOf(npmRegistry);
  if (npmHost) {
    hosts.add(npmHost);
    env.npm_config_registry = npmRegistry;
  }
  notes.push(`npm registry ${npmRegistry}${npmOut === null ? ' (npm not found; default)' : ''}`);
  const pip = parsePipConfig(pipOut ?? '');
  const index = pip.indexUrl && hostOf(pip.indexUrl) ? pip.indexUrl : null;
  if (index) {
    hosts.add(hostOf(index)!);
    env.PIP_INDEX_URL = index;
  } else for (const h of PYPI_DEFAULT) hosts.add(h);
  const extras = pip.extraIndexUrls.filter((u) => hostOf(u));
  for (const u of extras) hosts.add(hostOf(u)!);
  if (extras.length) env.PIP_EXTRA_INDEX_URL = extras.join(' ');
  notes.push(`pip index ${index ?? 'https://pypi.org/simple (default)'}${extras.length ? ` + ${extras.join(' ')}` : ''}`);
  return { hosts: [...hosts], env, notes };
}
