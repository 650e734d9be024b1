/**
 * Which destinations a project's sandbox may reach through the egress proxy. Entries are host
 * names, optionally `*.suffix` (any subdomain) and optionally `:port`; without a port only 443 and
 * 80 are allowed. IP literals are accepted only as exact entries (and are still subject to the
 * proxy's address checks).
 */
export interface AllowEntry {
  /** Lower-case host, without the `*.` prefix for wildcards. */
  host: string;
  wildcard: boolean;
  /** null: the default web ports (80, 443). */
  port: number | null;
}

const DEFAULT_PORTS = new Set([80, 443]);
const HOST_LABEL = /^(?!-)[a-z0-9-]{1,63}(?<!-)$/;

/** Parses one allowlist entry; null when it is not a valid host pattern. */
export function parseAllowEntry(raw: string): AllowEntry | null {
  let s = raw.trim().toLowerCase();
  if (!s || s.length > 260) return null;
  let port: number | null = null;
  const m = /^(.*):(\d{1,5})$/.exec(s);
  if (m && !m[1]!.includes(':')) {
    port = Number(m[2]);
    if (port < 1 || port > 65535) return null;
    s = m[1]!;
  }
  let wildcard = false;
  if (s.startsWith('*.')) {
    wildcard = true;
    s = s.slice(2);
  }
  s = s.replace(/\.$/, '');
  const labels = s.split('.');
  if (labels.length < (wildcard ? 2 : 1) || !labels.every((l) => HOST_LABEL.test(l))) return null;
  return { host: s, wildcard, port };
}

export function formatAllowEntry(e: AllowEntry): string {
  return `${e.wildcard ? '*.' : ''}${e.host}${e.port === null ? '' : `:${e.port}`}`;
}

/** Parses a list, dropping duplicates; throws with the offending entry when one is invalid. */
export function parseAllowList(raw: Iterable<string>): AllowEntry[] {
  const out = new Map<string, AllowEntry>();
  for (const r of raw) {
    const e = parseAllowEntry(r);
    if (!e) throw new Error(`"${r}" is not a host name (expected e.g. registry.example.com, *.example.com or host:8443)`);
    out.set(formatAllowEntry(e), e);
  }
  return [...out.values()];
}

export function allowEntryMatches(e: AllowEntry, host: string, port: number): boolean {
  const h = host.toLowerCase().replace(/\.$/, '');
  const hostOk = e.wildcard ? h.endsWith(`.${e.host}`) : h === e.host;
  if (!hostOk) return false;
  return e.port === null ? DEFAULT_PORTS.has(port) : e.port === port;
}

/** True when `entry` is covered by one of `ceiling` (an owner may only add hosts within it). */
export function withinCeiling(entry: AllowEntry, ceiling: readonly AllowEntry[]): boolean {
  return ceiling.some((c) => {
    if (c.port !== null && c.port !== entry.port) return false;
    if (c.port === null && entry.port !== null && !DEFAULT_PORTS.has(entry.port)) return false;
    if (entry.wildcard) return c.wildcard && (entry.host === c.host || entry.host.endsWith(`.${c.host}`));
    return c.wildcard ? entry.host.endsWith(`.${c.host}`) : entry.host === c.host;
  });
}
