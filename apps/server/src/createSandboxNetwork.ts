import { join } from 'node:path';
import {
  discoverRegistries, EgressProxy, parseAllowList, SandboxNetwork, type AllowEntry,
} from '@tandem/sandbox';
import type { Env } from './env.ts';

export interface SandboxNetworkSetup {
  network: SandboxNetwork;
  /** Hosts every project reaches (registries + TANDEM_EGRESS_ALLOW_HOSTS). */
  defaults: AllowEntry[];
  /** What owners may add (TANDEM_EGRESS_PROJECT_CEILING). */
  ceiling: AllowEntry[];
}

function list(name: string, value: string): AllowEntry[] {
  try {
    return parseAllowList(value.split(',').map((s) => s.trim()).filter(Boolean));
  } catch (e) {
    throw new Error(`Invalid configuration:\n  ${name}: ${(e as Error).message}`);
  }
}

function portOf(url: string | undefined, fallback: number): number {
  if (!url) return fallback;
  try {
    return Number(new URL(url).port) || fallback;
  } catch {
    return fallback;
  }
}

/**
 * The sandboxes' only way out: the egress proxy (allowlist = the registries the host's npm/pip
 * use + TANDEM_EGRESS_ALLOW_HOSTS + each project's owner-added hosts within the ceiling), reached
 * through a per-session channel. null with TANDEM_SANDBOX_NETWORK=false.
 */
export async function createSandboxNetwork(env: Env, projectAllowList: (projectId: string) => Promise<readonly AllowEntry[]>): Promise<SandboxNetworkSetup | null> {
  if (env.TANDEM_SANDBOX_NETWORK === 'false') return null;
  const extra = list('TANDEM_EGRESS_ALLOW_HOSTS', env.TANDEM_EGRESS_ALLOW_HOSTS);
  const ceiling = list('TANDEM_EGRESS_PROJECT_CEILING', env.TANDEM_EGRESS_PROJECT_CEILING);
  const registries = await discoverRegistries();
  const defaults = [...parseAllowList(registries.hosts), ...extra];
  const deniedPorts = [portOf(env.DATABASE_URL, 5432), portOf(env.REDIS_URL, 6379)];
  if (env.PORT) deniedPorts.push(env.PORT);
  if (env.TANDEM_PREVIEW_PORT) deniedPorts.push(env.TANDEM_PREVIEW_PORT);
  let network: SandboxNetwork | null = null;
  const proxy = new EgressProxy({
    allow: defaults,
    deniedPorts,
    projectAllowList,
    budget: { bytesPerMinute: env.TANDEM_EGRESS_MB_PER_MINUTE * 1024 * 1024, bytesPerSession: env.TANDEM_EGRESS_MB_PER_SESSION * 1024 * 1024 },
    onRefused: (r) => network?.notice(r.sessionId, r.message),
  });
  network = new SandboxNetwork({ socketDir: join(env.sandboxDir, '.net'), proxy, registryEnv: registries.env });
  console.info(`[sandbox] network: egress proxy allows ${defaults.length} host(s) (${registries.notes.join('; ')}${extra.length ? `; +${extra.length} from TANDEM_EGRESS_ALLOW_HOSTS` : ''}); owners may add ${ceiling.length ? ceiling.length + ' pattern(s)' : 'nothing'}; at most ${env.TANDEM_EGRESS_MB_PER_MINUTE} MiB/min per project, ${env.TANDEM_EGRESS_MB_PER_SESSION} MiB per run or terminal`);
  return { network, defaults, ceiling };
}
