import { AppError } from '@tandem/protocol';
import { parseAllowEntry, type AllowEntry } from '@tandem/sandbox';

/** An external agent the deployment offers (TANDEM_ACP_AGENTS), started in a run's sandbox. */
export interface AcpAgentConfig {
  /** Stable id, stored in the project's settings and on each run (`acp:<id>`). */
  id: string;
  label: string;
  /** Program and arguments, run without a shell inside the sandbox (cwd /project). */
  command: string;
  args: string[];
  /** Extra environment, e.g. the agent's API key. Never shown to participants. */
  env: Record<string, string>;
  /** Hosts its egress may reach beyond the deployment's list and the package registries. */
  egressHosts: AllowEntry[];
  /** Host paths bound read-only into the sandbox (an agent installed outside /usr). */
  mounts: Array<{ host: string; sandbox: string }>;
}

const ID = /^[a-z0-9][a-z0-9_-]{0,31}$/;
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,127}$/;
/** Sandbox paths a mount may not cover: the project, the OS image, what the sandbox builds itself. */
const MOUNT_AT = /^\/opt\/[A-Za-z0-9._-]+(\/[A-Za-z0-9._-]+)*$/;
const MAX_AGENTS = 20;

/**
 * Validates the deployment's list of external agents (JSON). Errors name the agent and field,
 * so the server refuses to start with a message the operator can act on.
 */
export function parseAcpAgents(json: string | undefined): AcpAgentConfig[] {
  if (json === undefined || json.trim() === '') return [];
  let raw: unknown;
  try {
    raw = JSON.parse(json);
  } catch (e) {
    throw new AppError('BAD_INPUT', `TANDEM_ACP_AGENTS is not valid JSON: ${(e as Error).message}`);
  }
  if (!Array.isArray(raw) || raw.length > MAX_AGENTS) throw new AppError('BAD_INPUT', `TANDEM_ACP_AGENTS must be a JSON array of at most ${MAX_AGENTS} agents.`);
  const seen = new Set<string>();
  return raw.map((a: unknown, i) => {
    const where = `TANDEM_ACP_AGENTS[${i}]`;
    const fail = (m: string): never => {
      throw new AppError('BAD_INPUT', `${where}: ${m}`);
    };
    if (typeof a !== 'object' || a === null || Array.isArray(a)) return fail('must be an object.');
    const v = a as Record<string, unknown>;
    if (typeof v.id !== 'string' || !ID.test(v.id)) fail('id must be 1-32 lowercase letters, digits, - or _.');
    const id = v.id as string;
    if (seen.has(id)) fail(`id "${id}" is used twice.`);
    seen.add(id);
    const label = v.label ?? id;
    if (typeof label !== 'string' || label.trim() === '' || label.length > 64) fail('label must be 1-64 characters.');
    if (typeof v.command !== 'string' || v.command.trim() === '' || v.command.length > 512 || v.command.includes('\0')) fail('command must be a program name or path.');
    const args = v.args ?? [];
    if (!Array.isArray(args) || args.length > 64 || args.some((x) => typeof x !== 'string' || x.length > 1024 || x.includes('\0'))) fail('args must be a list of at most 64 strings.');
    const env = v.env ?? {};
    if (typeof env !== 'object' || env === null || Array.isArray(env)) return fail('env must be an object of strings.');
    for (const [k, val] of Object.entries(env)) {
      if (!ENV_NAME.test(k) || typeof val !== 'string' || val.length > 8192) fail(`env.${k} must be a variable name with a string value.`);
    }
    const hosts = v.egressHosts ?? [];
    if (!Array.isArray(hosts) || hosts.length > 50) return fail('egressHosts must be a list of at most 50 hosts.');
    const egressHosts = hosts.map((h: unknown) => {
      const entry = typeof h === 'string' ? parseAllowEntry(h) : null;
      return entry ?? fail(`egressHosts entry ${JSON.stringify(h)} is not a host, *.domain or host:port.`);
    });
    const mountsRaw = v.mounts ?? [];
    if (!Array.isArray(mountsRaw) || mountsRaw.length > 10) return fail('mounts must be a list of at most 10 {host, sandbox} pairs.');
    const mounts = mountsRaw.map((m: unknown) => {
      const { host, sandbox } = (m ?? {}) as { host?: unknown; sandbox?: unknown };
      if (typeof host !== 'string' || !host.startsWith('/')) fail('a mount\'s host must be an absolute path.');
      if (typeof sandbox !== 'string' || !MOUNT_AT.test(sandbox) || sandbox.split('/').includes('..')) fail('a mount\'s sandbox path must be under /opt/.');
      return { host: host as string, sandbox: sandbox as string };
    });
    return { id, label: (label as string).trim(), command: v.command as string, args: args as string[], env: env as Record<string, string>, egressHosts, mounts };
  });
}
