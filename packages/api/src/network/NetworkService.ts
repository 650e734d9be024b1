import { AppError } from '@tandem/protocol';
import type { PrismaClient } from '@tandem/db';
import {
  formatAllowEntry, parseAllowEntry, withinCeiling, type AllowEntry, type SandboxNetwork,
} from '@tandem/sandbox';
import { projectChannel, type EventHub } from '../EventHub.ts';
import { PREVIEWS_EVENT, type PreviewTarget, type PreviewsChanged } from './networkEvents.ts';
import { PreviewTokens, type PreviewClaims } from './PreviewTokens.ts';

export interface NetworkServiceOptions {
  prisma: PrismaClient;
  /** The sandbox host's network (egress proxy + preview channel); null when sandboxes have no network. */
  network: SandboxNetwork | null;
  /** Hosts every project reaches (registries + deployment list), for display. */
  defaults: readonly AllowEntry[];
  /** What owners may add per project (TANDEM_EGRESS_PROJECT_CEILING). Empty: nothing. */
  ceiling: readonly AllowEntry[];
  secret: string;
  /** Where port changes are announced to the project's participants (PREVIEWS_EVENT). */
  hub?: EventHub;
  /** Public URL of a project's preview on `port` (the preview origin, README → Preview). */
  previewUrl: (projectId: string, port: number) => string;
  maxHostsPerProject?: number;
  now?: () => number;
}

const TICKET_MS = 60_000;
const SESSION_MS = 12 * 3600_000;
const MAX_SHARE_MS = 7 * 24 * 3600_000;
const CACHE_MS = 3000;
/** How long a positive membership check is reused; access changes on this node drop it at once. */
const ACCESS_CACHE_MS = 5000;

/**
 * Project network rules: the hosts an owner added (within the deployment ceiling, stored on the
 * project and read by the egress proxy through `projectAllowList`), and access to previews
 * (tickets for members, signed share links). Membership is checked by the router / on every
 * preview request through `canView`.
 */
export class NetworkService {
  readonly tokens: PreviewTokens;
  private readonly cache = new Map<string, { at: number; entries: readonly AllowEntry[] }>();
  private readonly access = new Map<string, number>();
  /** Membership checks under way, by `projectId:userId` (the epoch they started in). */
  private readonly checking = new Map<string, { epoch: number; result: Promise<boolean> }>();
  private accessEpoch = 0;
  private readonly now: () => number;

  constructor(private readonly options: NetworkServiceOptions) {
    this.now = options.now ?? Date.now;
    this.tokens = new PreviewTokens(options.secret, this.now);
    const hub = options.hub;
    options.network?.onPortsChanged((projectId) => {
      void this.previews(projectId).then((previews) => {
        hub?.publish(projectChannel(projectId), PREVIEWS_EVENT, { projectId, previews } satisfies PreviewsChanged);
      });
    });
  }

  get networkEnabled(): boolean {
    return this.options.network !== null;
  }

  /** For the egress proxy: the project's extra hosts, cached for a few seconds. */
  projectAllowList = async (projectId: string): Promise<readonly AllowEntry[]> => {
    const hit = this.cache.get(projectId);
    if (hit && hit.at > this.now() - CACHE_MS) return hit.entries;
    const p = await this.options.prisma.project.findUnique({ where: { id: projectId }, select: { egressHosts: true } });
    // Re-checked against the current ceiling: lowering the ceiling takes effect for stored hosts too.
    const entries = (p?.egressHosts ?? []).map((h) => parseAllowEntry(h)).filter((e): e is AllowEntry => e !== null && withinCeiling(e, this.options.ceiling));
    if (this.cache.size > 10_000) this.cache.clear();
    this.cache.set(projectId, { at: this.now(), entries });
    return entries;
  };

  async settings(projectId: string): Promise<{ enabled: boolean; defaults: string[]; ceiling: string[]; hosts: string[] }> {
    const p = await this.options.prisma.project.findUniqueOrThrow({ where: { id: projectId }, select: { egressHosts: true } });
    return {
      enabled: this.networkEnabled,
      defaults: this.options.defaults.map(formatAllowEntry),
      ceiling: this.options.ceiling.map(formatAllowEntry),
      hosts: p.egressHosts,
    };
  }

  /** Replaces the project's extra hosts. The caller checked the owner role. */
  async setHosts(projectId: string, hosts: readonly string[]): Promise<string[]> {
    const max = this.options.maxHostsPerProject ?? 32;
    if (hosts.length > max) throw new AppError('BAD_INPUT', `At most ${max} hosts per project.`);
    const out = new Map<string, AllowEntry>();
    for (const raw of hosts) {
      const e = parseAllowEntry(raw);
      if (!e) throw new AppError('BAD_INPUT', `"${raw.slice(0, 100)}" is not a host name (e.g. api.example.com, *.example.com or host:8443).`);
      if (!withinCeiling(e, this.options.ceiling)) {
        throw new AppError('FORBIDDEN', this.options.ceiling.length
          ? `${formatAllowEntry(e)} is outside what this server lets projects add (${this.options.ceiling.map(formatAllowEntry).join(', ')}).`
          : 'This server does not let projects add hosts (its operator can set TANDEM_EGRESS_PROJECT_CEILING).');
      }
      out.set(formatAllowEntry(e), e);
    }
    const list = [...out.keys()];
    await this.options.prisma.project.update({ where: { id: projectId }, data: { egressHosts: list } });
    this.cache.delete(projectId);
    return list;
  }

  /** Ports programs listen on in the project's sandboxes, with their preview URLs. */
  async previews(projectId: string): Promise<PreviewTarget[]> {
    const net = this.options.network;
    if (!net) return [];
    const seen = new Set<number>();
    const out: PreviewTarget[] = [];
    for (const { port } of await net.listeningPorts(projectId)) {
      if (seen.has(port)) continue;
      seen.add(port);
      out.push({ port, url: this.options.previewUrl(projectId, port) });
    }
    return out;
  }

  /** A one-minute pass a member's browser exchanges at the preview origin for a preview cookie. */
  ticket(userId: string, projectId: string, port: number): { url: string; expiresAt: number } {
    const exp = this.now() + TICKET_MS;
    const t = this.tokens.sign({ kind: 'ticket', projectId, port, userId, exp });
    return { url: `${this.options.previewUrl(projectId, port)}/__tandem/auth?t=${encodeURIComponent(t)}`, expiresAt: exp };
  }

  /** A signed link for people outside the project; valid until it expires (≤ 7 days). */
  shareLink(projectId: string, port: number, ttlMs: number): { url: string; expiresAt: number } {
    const exp = this.now() + Math.min(Math.max(ttlMs, 60_000), MAX_SHARE_MS);
    const t = this.tokens.sign({ kind: 'share', projectId, port, userId: null, exp });
    return { url: `${this.options.previewUrl(projectId, port)}/__tandem/auth?t=${encodeURIComponent(t)}`, expiresAt: exp };
  }

  /** Exchanges a ticket/share token for the preview cookie value; null when invalid. */
  exchange(token: string | null, projectId: string, port: number): { cookie: string; claims: PreviewClaims } | null {
    const c = this.tokens.verify(token, ['ticket', 'share']);
    if (!c || c.projectId !== projectId || c.port !== port) return null;
    const exp = c.kind === 'share' ? c.exp : this.now() + SESSION_MS;
    const claims: PreviewClaims = { kind: c.kind === 'share' ? 'share' : 'session', projectId, port, userId: c.userId, exp };
    return { cookie: this.tokens.sign(claims), claims };
  }

  /**
   * Whether the preview cookie lets its holder see this project's preview right now. A positive
   * membership check is reused for 5 s (one DB query per request cost ~3 ms p50); role changes on
   * this node (`forgetAccess`) end it at once, on other nodes within 5 s.
   */
  async canView(cookie: string | null, projectId: string, port: number): Promise<boolean> {
    const c = this.tokens.verify(cookie, ['session', 'share']);
    if (!c || c.projectId !== projectId || c.port !== port) return false;
    if (c.kind === 'share') return true;
    const key = `${projectId}:${c.userId}`;
    const left = (this.access.get(key) ?? 0) - this.now();
    if (left > 0) {
      // Renewed ahead of expiry, off the request path: a viewer's requests do not wait for the
      // database every few seconds. An entry is never used past its expiry.
      if (left < ACCESS_CACHE_MS / 2) this.checkMembership(projectId, c.userId!, key).catch(() => {});
      return true;
    }
    return this.checkMembership(projectId, c.userId!, key);
  }

  /** A member's access changed (or the project is gone): their next preview request is re-checked. */
  forgetAccess(projectId: string, userId?: string): void {
    // Checks already under way may have read the old membership: they must not store it.
    this.accessEpoch++;
    if (userId) this.access.delete(`${projectId}:${userId}`);
    else for (const key of this.access.keys()) if (key.startsWith(`${projectId}:`)) this.access.delete(key);
  }

  /** One database check per viewer at a time; a positive answer is remembered for ACCESS_CACHE_MS. */
  private checkMembership(projectId: string, userId: string, key: string): Promise<boolean> {
    const epoch = this.accessEpoch;
    const running = this.checking.get(key);
    if (running?.epoch === epoch) return running.result;
    const result = this.options.prisma.membership.findUnique({ where: { projectId_userId: { projectId, userId } }, select: { role: true } })
      .then((m) => {
        if (m === null) {
          this.access.delete(key);
          return false;
        }
        if (epoch === this.accessEpoch) {
          if (this.access.size > 10_000) this.access.clear();
          this.access.set(key, this.now() + ACCESS_CACHE_MS);
        }
        return true;
      })
      .finally(() => {
        if (this.checking.get(key)?.result === result) this.checking.delete(key);
      });
    this.checking.set(key, { epoch, result });
    return result;
  }
}
