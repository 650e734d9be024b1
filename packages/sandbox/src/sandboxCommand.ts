import { lstatSync, readlinkSync } from 'node:fs';
import type { SandboxLimits } from './SandboxLimits.ts';

/** Where the project's working copy appears inside the sandbox (also HOME and the cwd). */
export const SANDBOX_PROJECT_DIR = '/project';

export interface SandboxTools {
  sh: string;
  prlimit: string;
  setpriv: string;
  /** null: run without bubblewrap (only with allowUnsandboxed). */
  bwrap: string | null;
}

export interface SandboxCommandSpec {
  tools: SandboxTools;
  /** cgroup.procs files the wrapper joins before anything else runs; empty when cgroups are unavailable. */
  cgroupProcsFiles: string[];
  limits: SandboxLimits;
  /** Host uid/gid the program runs as; null keeps the server's own (non-root server). */
  user: { uid: number; gid: number } | null;
  workDir: string;
  /** Host directory with the synthetic passwd, group and hosts files. */
  etcDir: string;
  env: Record<string, string>;
  /**
   * setsid() inside the sandbox, so the program has no controlling terminal to inject input into
   * (TIOCSTI). Off for terminals: their pty is private to the sandbox and bash needs it as its
   * controlling terminal for job control and Ctrl-C.
   */
  newSession: boolean;
  /** Extra read-only binds (the session's network channel and helper; see net/SandboxNetwork). */
  extraBinds?: { src: string; dest: string }[];
  argv: string[];
  /** Host file holding the seccomp BPF program (SeccompFilter); the wrapper opens it as fd 3 for bwrap. */
  seccompFile?: string | null;
  /**
   * Host directory bound as /tmp (on the project's quota-limited disk, so /tmp counts against
   * the quota); null: a private size-capped tmpfs instead.
   */
  tmpDir?: string | null;
}

/** The descriptor the wrapper shell opens the seccomp program on, for `bwrap --seccomp`. */
export const SECCOMP_FD = 3;

/** The minimal environment programs see: no server variables at all (no secrets, no database URL). */
export function sandboxEnv(home: string, extra: Record<string, string> = {}): Record<string, string> {
  return {
    PATH: `${home}/node_modules/.bin:/usr/local/bin:/usr/bin:/bin`,
    HOME: home,
    LANG: 'C.UTF-8',
    TMPDIR: '/tmp',
    PYTHONUNBUFFERED: '1', // live output instead of a block-buffered pipe
    PYTHONDONTWRITEBYTECODE: '1', // no __pycache__ clutter in the project
    // Package caches persist with the project's environment (its disk), out of the documents.
    XDG_CACHE_HOME: `${home}/.cache`, // pip and most tools
    npm_config_cache: `${home}/.cache/npm`,
    // A terminal's shell history stays with the environment too, not as a file offered for import.
    HISTFILE: `${home}/.cache/bash_history`,
    npm_config_update_notifier: 'false',
    npm_config_fund: 'false',
    npm_config_audit: 'false',
    ...extra,
  };
}

/**
 * The top-level directories of the host's root that are part of the OS image (merged-/usr
 * symlinks like /bin -> usr/bin, or real directories on older layouts). Computed once per host.
 */
export function osRootEntries(): { path: string; symlinkTo: string | null }[] {
  const out: { path: string; symlinkTo: string | null }[] = [];
  for (const path of ['/bin', '/sbin', '/lib', '/lib64', '/lib32', '/libx32']) {
    try {
      const st = lstatSync(path);
      if (st.isSymbolicLink()) out.push({ path, symlinkTo: readlinkSync(path) });
      else if (st.isDirectory()) out.push({ path, symlinkTo: null });
    } catch {
      // not on this system
    }
  }
  return out;
}

/** Read-only /etc pieces programs need; everything else in /etc (shadow, configs with secrets) stays out. */
const ETC_FROM_HOST = ['/etc/ld.so.cache', '/etc/alternatives', '/etc/localtime'];
const ETC_SYNTHETIC = ['passwd', 'group', 'hosts'];

export function bwrapArgs(spec: SandboxCommandSpec, rootEntries: { path: string; symlinkTo: string | null }[]): string[] {
  const args = [
    // Every namespace (no network: only a loopback of its own), no nested user namespaces.
    '--unshare-all', '--unshare-user', '--disable-userns', '--die-with-parent',
    ...(spec.newSession ? ['--new-session'] : []),
    '--hostname', 'sandbox',
    '--ro-bind', '/usr', '/usr',
  ];
  for (const e of rootEntries) {
    if (e.symlinkTo !== null) args.push('--symlink', e.symlinkTo, e.path);
    else args.push('--ro-bind', e.path, e.path);
  }
  for (const p of ETC_FROM_HOST) args.push('--ro-bind-try', p, p);
  for (const f of ETC_SYNTHETIC) args.push('--ro-bind', `${spec.etcDir}/${f}`, `/etc/${f}`);
  args.push(
    '--proc', '/proc',
    '--dev', '/dev',
    ...(spec.tmpDir ? ['--bind', spec.tmpDir, '/tmp'] : ['--size', String(spec.limits.tmpBytes), '--tmpfs', '/tmp']),
    '--bind', spec.workDir, SANDBOX_PROJECT_DIR,
  );
  for (const b of spec.extraBinds ?? []) args.push('--ro-bind', b.src, b.dest);
  args.push(
    // The root tmpfs bwrap builds (/, /etc) becomes read-only once everything is mounted on it.
    '--remount-ro', '/',
    '--chdir', SANDBOX_PROJECT_DIR,
    '--clearenv',
  );
  if (spec.seccompFile) args.push('--seccomp', String(SECCOMP_FD));
  for (const [k, v] of Object.entries(spec.env)) args.push('--setenv', k, v);
  args.push('--', ...spec.argv);
  return args;
}

/**
 * The wrapper shell joins the cgroups with its own pid, then execs prlimit → setpriv → bwrap →
 * the program, so the program can neither start outside its cgroup nor keep host privileges.
 * Values travel as separate argv entries, never through shell interpolation.
 */
const JOIN_CGROUPS_AND_EXEC =
  's="$1"; shift; while [ "$1" != "--" ]; do echo $$ > "$1" || exit 125; shift; done; shift; ' +
  `if [ -n "$s" ]; then exec ${SECCOMP_FD}<"$s" || exit 125; fi; exec "$@"`;

export function sandboxArgv(spec: SandboxCommandSpec, rootEntries: { path: string; symlinkTo: string | null }[]): string[] {
  const { tools, limits } = spec;
  const seccompFile = tools.bwrap && spec.seccompFile ? spec.seccompFile : '';
  const argv = [tools.sh, '-c', JOIN_CGROUPS_AND_EXEC, 'tandem-sandbox', seccompFile, ...spec.cgroupProcsFiles, '--'];
  argv.push(
    tools.prlimit, `--fsize=${limits.fileSizeBytes}`, `--nofile=${limits.openFiles}`, '--core=0', '--',
  );
  argv.push(tools.setpriv);
  if (spec.user) argv.push(`--reuid=${spec.user.uid}`, `--regid=${spec.user.gid}`, '--clear-groups');
  // If the server dies, bubblewrap dies, and with --die-with-parent so does everything inside.
  argv.push('--pdeathsig=KILL', '--');
  if (tools.bwrap) argv.push(tools.bwrap, ...bwrapArgs(spec, rootEntries));
  else argv.push(...spec.argv);
  return argv;
}
