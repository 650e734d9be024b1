import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bwrapArgs, sandboxArgv, sandboxEnv, type SandboxCommandSpec } from './sandboxCommand.ts';
import { DEFAULT_LIMITS } from './SandboxLimits.ts';

const spec = (over: Partial<SandboxCommandSpec> = {}): SandboxCommandSpec => ({
  tools: { sh: '/bin/sh', prlimit: '/usr/bin/prlimit', setpriv: '/usr/bin/setpriv', bwrap: '/usr/bin/bwrap' },
  cgroupProcsFiles: ['/cg/mem/cgroup.procs', '/cg/pids/cgroup.procs'],
  limits: DEFAULT_LIMITS,
  user: { uid: 65534, gid: 65534 },
  workDir: '/srv/p/work', etcDir: '/srv/.etc',
  env: sandboxEnv('/project'),
  newSession: true,
  argv: ['/bin/sh', '-c', 'echo "$HOME"; rm -rf /'],
  ...over,
});

test('bubblewrap gets every namespace, no network sharing, and only the needed binds', () => {
  const args = bwrapArgs(spec(), [{ path: '/bin', symlinkTo: 'usr/bin' }]);
  for (const flag of ['--unshare-all', '--unshare-user', '--disable-userns', '--die-with-parent', '--new-session', '--clearenv']) {
    assert.ok(args.includes(flag), flag);
  }
  assert.ok(!args.includes('--share-net'));
  const binds = args.flatMap((a, i) => (a === '--bind' || a === '--ro-bind' || a === '--ro-bind-try' ? [`${a} ${args[i + 1]}`] : []));
  assert.deepEqual(binds.filter((b) => b.startsWith('--bind')), ['--bind /srv/p/work']);
  assert.ok(!binds.some((b) => b.includes('/etc/shadow') || b === '--ro-bind /etc' || b.includes(' / ')));
  // The program's argv is passed through verbatim after `--`.
  assert.deepEqual(args.slice(args.lastIndexOf('--') + 1), ['/bin/sh', '-c', 'echo "$HOME"; rm -rf /']);
});

test('terminals keep their controlling tty (no --new-session)', () => {
  assert.ok(!bwrapArgs(spec({ newSession: false }), []).includes('--new-session'));
});

test('the environment is a fixed allow-list with no server variables', () => {
  process.env.DATABASE_URL = 'postgres://secret';
  const env = sandboxEnv('/project', { TERM: 'xterm' });
  assert.deepEqual(Object.keys(env).sort(), [
    'HISTFILE', 'HOME', 'LANG', 'PATH', 'PYTHONDONTWRITEBYTECODE', 'PYTHONUNBUFFERED', 'TERM', 'TMPDIR', 'XDG_CACHE_HOME',
    'npm_config_audit', 'npm_config_cache', 'npm_config_fund', 'npm_config_update_notifier',
  ]);
  assert.equal(env.HOME, '/project');
  assert.ok(!JSON.stringify(env).includes('secret'));
});

test('wrapper joins cgroups, lowers rlimits, drops to the sandbox uid, then execs bwrap', () => {
  const argv = sandboxArgv(spec(), []);
  assert.equal(argv[0], '/bin/sh');
  assert.equal(argv[4], '', 'no seccomp file given');
  const afterScript = argv.slice(5);
  assert.deepEqual(afterScript.slice(0, 3), ['/cg/mem/cgroup.procs', '/cg/pids/cgroup.procs', '--']);
  const prl = argv.indexOf('/usr/bin/prlimit');
  const sp = argv.indexOf('/usr/bin/setpriv');
  const bw = argv.indexOf('/usr/bin/bwrap');
  assert.ok(prl > 0 && prl < sp && sp < bw);
  assert.ok(argv.includes('--reuid=65534') && argv.includes('--pdeathsig=KILL'));
  assert.ok(argv.includes(`--fsize=${DEFAULT_LIMITS.fileSizeBytes}`));
});

test('unsandboxed mode (bwrap null) still wraps but runs the program directly', () => {
  const argv = sandboxArgv(spec({ tools: { sh: '/bin/sh', prlimit: '/usr/bin/prlimit', setpriv: '/usr/bin/setpriv', bwrap: null } }), []);
  assert.ok(!argv.some((a) => a.includes('bwrap')));
  assert.deepEqual(argv.slice(-3), ['/bin/sh', '-c', 'echo "$HOME"; rm -rf /']);
});

test('with a seccomp file the wrapper opens it as fd 3 and bwrap loads it; a disk tmp dir replaces the tmpfs', () => {
  const argv = sandboxArgv(spec({ seccompFile: '/srv/.etc/seccomp.bpf', tmpDir: '/srv/p/disk/tmp/run-1' }), []);
  assert.equal(argv[4], '/srv/.etc/seccomp.bpf');
  assert.match(argv[2]!, /exec 3<"\$s"/);
  const bw = argv.indexOf('/usr/bin/bwrap');
  const args = argv.slice(bw + 1);
  const i = args.indexOf('--seccomp');
  assert.ok(i > 0 && args[i + 1] === '3' && i < args.lastIndexOf('--'));
  assert.ok(!args.includes('--tmpfs'));
  assert.ok(args.join(' ').includes('--bind /srv/p/disk/tmp/run-1 /tmp'));
  // Unsandboxed mode never passes the file (nothing would load it).
  assert.equal(sandboxArgv(spec({ seccompFile: '/x', tools: { sh: '/bin/sh', prlimit: '/usr/bin/prlimit', setpriv: '/usr/bin/setpriv', bwrap: null } }), [])[4], '');
});
