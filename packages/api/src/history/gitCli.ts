import { execFile } from 'node:child_process';
import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { AppError } from '@tandem/protocol';
import { isPublicAddress } from '@tandem/sandbox';

/** How the server may talk to git remotes (imports from a URL and pushes). */
export interface GitRemotePolicy {
  /**
   * Hosts (`name` or `name:port`) that may resolve to loopback / private addresses and may use
   * plain http: an on-premises git server, or the tests' loopback server. Empty by default.
   */
  privateHosts: readonly string[];
  /** Wall-clock limit of one git command talking to a remote. */
  timeoutMs: number;
  /** Largest file git may write (the fetched pack): a bigger repository is refused. */
  maxFetchBytes: number;
}

export const DEFAULT_GIT_REMOTE_POLICY: GitRemotePolicy = { privateHosts: [], timeoutMs: 60_000, maxFetchBytes: 64 * 1024 * 1024 };

/** A remote URL checked against the policy, with the address git must connect to (no second DNS answer). */
export interface CheckedRemote {
  url: string;
  host: string;
  /** `host:port:address` for `http.curloptResolve`. */
  pin: string;
}

/**
 * Refuses what the server must never fetch from or push to: anything but https (http only for a
 * configured host), credentials in the URL, and names resolving to loopback, private, link-local
 * (cloud metadata) or other internal addresses unless the host is configured (`privateHosts`).
 * Like the sandbox's egress proxy, every resolved address must be public; git is then pinned to
 * the address checked (no DNS rebinding) and follows no redirects.
 */
export async function checkRemote(raw: string, policy: GitRemotePolicy): Promise<CheckedRemote> {
  let url: URL;
  try {
    url = new URL(raw.trim());
  } catch {
    throw new AppError('BAD_INPUT', 'Enter the repository\'s https:// URL.');
  }
  const port = url.port || (url.protocol === 'https:' ? '443' : '80');
  const host = url.hostname.replace(/^\[|\]$/g, '');
  const configured = policy.privateHosts.includes(host) || policy.privateHosts.includes(`${host}:${port}`);
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && configured)) {
    throw new AppError('BAD_INPUT', 'Only https:// git URLs are allowed (not file://, ssh or git://).');
  }
  if (url.username || url.password) throw new AppError('BAD_INPUT', 'Put the token in the token field, not in the URL.');
  if (url.search || url.hash) throw new AppError('BAD_INPUT', 'The URL may not have a query or fragment.');
  let addresses: string[];
  if (isIP(host)) addresses = [host];
  else {
    try {
      addresses = (await lookup(host, { all: true })).map((a) => a.address);
    } catch {
      throw new AppError('BAD_INPUT', `Could not resolve ${host}.`);
    }
  }
  if (addresses.length === 0 || (!configured && !addresses.every(isPublicAddress))) {
    throw new AppError('BAD_INPUT', `${host} is on a private or local network: this server does not connect there.`);
  }
  const address = addresses[0]!;
  return { url: url.toString(), host, pin: `${host}:${port}:${isIP(address) === 6 ? `[${address}]` : address}` };
}

export interface GitRun {
  /** Working directory (a repository, or its parent for clone). */
  cwd: string;
  /** An empty directory used as HOME: no user or system configuration, no credential helpers. */
  home: string;
  /** The remote this command talks to (pinned), if any. */
  remote?: CheckedRemote;
  /** Sent as `Authorization` to the remote (kept out of the command line). */
  authorization?: string;
  /** Local bundle files may be read (imports of an uploaded bundle). */
  allowBundle?: boolean;
  policy: GitRemotePolicy;
}

/**
 * Runs `git` for untrusted remotes: isolated configuration, only https (http for configured hosts),
 * no hooks, no redirects, no prompts, packs kept whole and the largest file capped (`prlimit`), a
 * wall-clock timeout. Failures become AppErrors with a message a person can act on.
 */
export function runGit(args: string[], options: GitRun): Promise<string> {
  const config: [string, string][] = [
    ['protocol.allow', 'never'], ['protocol.https.allow', 'always'], ['core.hooksPath', '/dev/null'],
    ['credential.helper', ''], ['http.followRedirects', 'false'], ['transfer.unpackLimit', '1'],
    ['fetch.unpackLimit', '1'], ['core.askPass', ''], ['submodule.recurse', 'false'],
  ];
  if (options.remote?.url.startsWith('http:')) config.push(['protocol.http.allow', 'always']);
  if (options.allowBundle) config.push(['protocol.file.allow', 'always']);
  if (options.remote) config.push(['http.curloptResolve', options.remote.pin]);
  if (options.authorization) config.push(['http.extraHeader', `Authorization: ${options.authorization}`]);
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: options.home, XDG_CONFIG_HOME: options.home, LANG: 'C', LC_ALL: 'C',
    GIT_CONFIG_NOSYSTEM: '1', GIT_CONFIG_GLOBAL: '/dev/null', GIT_TERMINAL_PROMPT: '0', GIT_ASKPASS: '/bin/false', SSH_ASKPASS: '/bin/false',
    GIT_PROTOCOL_FROM_USER: '0', GIT_CONFIG_COUNT: String(config.length),
  };
  config.forEach(([key, value], i) => {
    env[`GIT_CONFIG_KEY_${i}`] = key;
    env[`GIT_CONFIG_VALUE_${i}`] = value;
  });
  return new Promise((resolve, reject) => {
    execFile('prlimit', [`--fsize=${options.policy.maxFetchBytes}`, '--', 'git', ...args], {
      cwd: options.cwd, env: env as unknown as NodeJS.ProcessEnv, timeout: options.policy.timeoutMs, killSignal: 'SIGKILL', maxBuffer: 16 * 1024 * 1024, encoding: 'utf8',
    }, (error, stdout, stderr) => {
      if (!error) return resolve(stdout);
      reject(explain(stderr, error, options));
    });
  });
}

function explain(stderr: string, error: Error & { killed?: boolean; signal?: NodeJS.Signals | null }, options: GitRun): AppError {
  const where = options.remote?.host ?? 'the remote';
  const secret = options.authorization?.replace(/^\w+ /, '');
  const text = secret ? stderr.split(secret).join('***') : stderr;
  if (error.killed && error.signal === 'SIGKILL') return new AppError('UNAVAILABLE', `${where} did not finish within ${Math.round(options.policy.timeoutMs / 1000)} s.`);
  if (/File size limit exceeded|index-pack (failed|output)|SIGXFSZ|unpack-objects/i.test(text) || error.signal === 'SIGXFSZ') {
    return new AppError('TOO_LARGE', `The repository is larger than ${Math.round(options.policy.maxFetchBytes / 1024 / 1024)} MB.`);
  }
  if (/Authentication failed|could not read Username|HTTP 401|returned error: 401|terminal prompts disabled/i.test(text)) {
    return new AppError('BAD_INPUT', `${where} refused the credentials (authentication failed): check the token.`);
  }
  if (/returned error: 403|HTTP 403/i.test(text)) return new AppError('BAD_INPUT', `${where} refused access (403): the token may lack permission for this repository.`);
  if (/returned error: 404|HTTP 404|not found|does not appear to be a git repository/i.test(text)) return new AppError('BAD_INPUT', `No git repository at that URL on ${where}.`);
  if (/Could not resolve host|Failed to connect|Connection refused|Connection timed out|SSL|certificate/i.test(text)) {
    return new AppError('UNAVAILABLE', `Could not reach ${where}: ${lastLine(text)}`);
  }
  if (/redirect/i.test(text)) return new AppError('BAD_INPUT', `${where} answered with a redirect: use the repository's final URL.`);
  if (/\[rejected\]|non-fast-forward|fetch first/i.test(text)) return new AppError('CONFLICT', `${where} refused the update: ${lastLine(text)}`);
  return new AppError('BAD_INPUT', `git failed: ${lastLine(text) || error.message}`, text);
}

function lastLine(text: string): string {
  return text.trim().split('\n').filter((l) => l.trim() !== '').at(-1)?.replace(/^(fatal|error): /, '').slice(0, 300) ?? '';
}
