import { AppError, DEFAULT_AGENT_POLICY, roleAtLeast, type AgentPolicy, type Role } from '@tandem/protocol';

/** Bounds on what an owner may set: a run can never be made unbounded. */
export const AGENT_POLICY_LIMITS = {
  maxSteps: 200,
  maxTokens: 5_000_000,
  patterns: 50,
  patternChars: 200,
} as const;

/**
 * Validates a policy from storage or a request. Missing fields take the defaults, so a project
 * that never set one gets `DEFAULT_AGENT_POLICY`.
 */
export function parseAgentPolicy(value: unknown): AgentPolicy {
  if (value === null || value === undefined) return DEFAULT_AGENT_POLICY;
  if (typeof value !== 'object' || Array.isArray(value)) throw new AppError('BAD_INPUT', 'The agent policy is not an object.');
  const v = value as Partial<Record<keyof AgentPolicy, unknown>>;
  const starters = v.starters ?? DEFAULT_AGENT_POLICY.starters;
  if (starters !== 'editors' && starters !== 'owner') throw new AppError('BAD_INPUT', 'Who may start runs must be "editors" or "owner".');
  const int = (x: unknown, fallback: number, max: number, name: string): number => {
    const n = x ?? fallback;
    if (typeof n !== 'number' || !Number.isInteger(n) || n < 1 || n > max) throw new AppError('BAD_INPUT', `${name} must be a whole number from 1 to ${max}.`);
    return n;
  };
  const patterns = (x: unknown, fallback: string[], name: string): string[] => {
    const list = x ?? fallback;
    if (!Array.isArray(list) || list.length > AGENT_POLICY_LIMITS.patterns) {
      throw new AppError('BAD_INPUT', `${name}: at most ${AGENT_POLICY_LIMITS.patterns} patterns.`);
    }
    return list.map((p) => {
      if (typeof p !== 'string' || p.trim() === '' || p.length > AGENT_POLICY_LIMITS.patternChars || /[\n\r]/.test(p)) {
        throw new AppError('BAD_INPUT', `${name}: each pattern is one line of at most ${AGENT_POLICY_LIMITS.patternChars} characters.`);
      }
      return p.trim();
    });
  };
  return {
    starters,
    maxSteps: int(v.maxSteps, DEFAULT_AGENT_POLICY.maxSteps, AGENT_POLICY_LIMITS.maxSteps, 'Maximum steps'),
    maxTokens: int(v.maxTokens, DEFAULT_AGENT_POLICY.maxTokens, AGENT_POLICY_LIMITS.maxTokens, 'Maximum tokens'),
    allowedCommands: patterns(v.allowedCommands, DEFAULT_AGENT_POLICY.allowedCommands, 'Allowed commands'),
    forbiddenPaths: patterns(v.forbiddenPaths, DEFAULT_AGENT_POLICY.forbiddenPaths, 'Forbidden paths'),
  };
}

/** May a member with `role` start runs, steer and stop them, and answer permission prompts? */
export function mayStartOrSteer(policy: AgentPolicy, role: Role): boolean {
  return policy.starters === 'owner' ? role === 'owner' : roleAtLeast(role, 'editor');
}

function escape(s: string): string {
  return s.replace(/[.+?^${}()|[\]\\]/g, '\\$&');
}

/**
 * Path globs, gitignore-style: `*` matches within a segment, `**` across segments; a pattern
 * without `/` matches a file or folder of that name anywhere (`.env`, `*.pem`); a pattern that
 * matches a folder covers everything inside it (`secrets` = `secrets/**`).
 */
function pathPattern(glob: string): RegExp {
  const g = glob.replace(/^\/+/, '').replace(/\/+$/, '');
  let body = '';
  for (let i = 0; i < g.length; i++) {
    const c = g[i]!;
    if (c === '*' && g[i + 1] === '*') {
      const slash = g[i + 2] === '/';
      body += slash ? '(?:.*/)?' : '.*';
      i += slash ? 2 : 1;
    } else if (c === '*') {
      body += '[^/]*';
    } else if (c === '?') {
      body += '[^/]';
    } else {
      body += escape(c);
    }
  }
  const anywhere = !g.includes('/');
  return new RegExp(`^${anywhere ? '(?:.*/)?' : ''}${body}(?:/.*)?$`);
}

/** True when the AI may not read or write `path` (agent tools, AI edits, completion context). */
export function isForbiddenPath(forbidden: readonly string[], path: string): boolean {
  return forbiddenPathMatcher(forbidden)(path);
}

/** `isForbiddenPath` with the globs compiled once, for checking many paths. */
export function forbiddenPathMatcher(forbidden: readonly string[]): (path: string) => boolean {
  const patterns = forbidden.map(pathPattern);
  return (path) => patterns.some((re) => re.test(path));
}

/** Shell syntax that chains, substitutes or redirects: such a command always asks. */
const SHELL_META = /[;&|`$<>\n\r\\]|\(|\)/;

/**
 * Whether the agent may run `command` without asking: it must match one pattern as a whole
 * (`*` = any run of characters) and contain no shell syntax that could smuggle a second command
 * past the pattern (`npm test; curl …`).
 */
export function commandAllowed(allowed: readonly string[], command: string): boolean {
  const c = command.trim();
  if (c === '' || SHELL_META.test(c)) return false;
  return allowed.some((p) => new RegExp(`^${p.split('*').map(escape).join('.*')}$`).test(c));
}
