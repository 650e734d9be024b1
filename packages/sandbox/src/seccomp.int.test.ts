import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createTestHost, runAndCollect, type TestHost } from './createTestHost.ts';
import { DENIED_SYSCALLS, seccompArch, syscallNumber, type DeniedSyscall } from './SeccompFilter.ts';

const arch = seccompArch()!;
let t: TestHost;
let open: TestHost;

before(async () => {
  t = createTestHost({ limits: { runTimeoutMs: 10_000 } });
  // Same host without the filter: shows each attack works there, so the tests below can fail.
  open = createTestHost({ seccomp: false, cgroupName: 'tandem-sandbox-test-noseccomp', limits: { runTimeoutMs: 10_000 } });
  for (const h of [t, open]) {
    const report = await h.host.checkIsolation();
    assert.equal(report.sandboxed, true, `isolation must be available for these tests: ${report.missing.join('; ')}`);
  }
  assert.equal((await t.host.checkIsolation()).seccomp, true);
  assert.equal((await open.host.checkIsolation()).seccomp, false);
});

after(async () => {
  await t.cleanup();
  await open.cleanup();
});

/** Python that calls raw syscalls through libc's syscall() and prints `name errno`. */
const PRELUDE = `
import ctypes, os, sys
libc = ctypes.CDLL(None, use_errno=True)
libc.syscall.restype = ctypes.c_long
def call(nr, *args):
    ctypes.set_errno(0)
    r = libc.syscall(ctypes.c_long(nr), *[a if isinstance(a, (bytes, ctypes.c_char_p, ctypes.Array)) or a is None else ctypes.c_long(a) for a in args])
    return r, ctypes.get_errno()
`;

/**
 * Arguments chosen so that, without the filter, most calls fail with something other than EPERM
 * (ESRCH, EFAULT, EINVAL, EBADF…): EPERM then means the filter answered.
 */
const PROBE_ARGS: Partial<Record<DeniedSyscall, string>> = {
  ptrace: '2, 999999, 0, 0', // PTRACE_PEEKDATA on a pid that does not exist → ESRCH
  process_vm_readv: '999999, 0, 0, 0, 0, 0',
  kcmp: '1, 1, 0, 0, 0',
  keyctl: '0, -3, 0', // KEYCTL_GET_KEYRING_ID of the session keyring → a serial
  add_key: 'None, None, None, 0, -3', // NULL type → EFAULT
  request_key: 'None, None, None, 0',
  bpf: '9999, 0, 0', // bad command → EINVAL
  perf_event_open: '0, 0, -1, -1, 0', // NULL attr → EFAULT
  userfaultfd: '0xffff', // bad flags → EINVAL
  setns: '-1, 0', // bad fd → EBADF
  open_by_handle_at: '-1, 0, 0',
  name_to_handle_at: '-1, 0, 0, 0, 0',
  fsopen: 'None, 0',
  open_tree: '-1, None, 0',
};

async function probe(h: TestHost, project: string, body: string): Promise<string> {
  await h.host.syncWorkingCopy(project, [{ path: 'probe.py', content: PRELUDE + body }]);
  const { result, output } = await runAndCollect(h.host, project, 'python3 probe.py');
  assert.equal(result.reason, 'exit', output);
  return output;
}

test('every denied syscall fails with EPERM inside the sandbox; the filter is loaded (Seccomp: 2)', async () => {
  const lines = DENIED_SYSCALLS.map((name) => `r, e = call(${syscallNumber(name, arch)}, ${PROBE_ARGS[name] ?? '0, 0, 0, 0, 0'}); print(${JSON.stringify(name)}, r, e)`);
  const body = `${lines.join('\n')}\nprint('status', [l.split()[1] for l in open('/proc/self/status') if l.startswith('Seccomp:')][0])\n`;
  const filtered = parse(await probe(t, 'sc', body));
  const unfiltered = parse(await probe(open, 'sc', body));
  assert.equal(filtered.get('status')?.join(), '2', 'seccomp filter mode');
  assert.equal(unfiltered.get('status')?.join(), '0');
  for (const name of DENIED_SYSCALLS) {
    assert.deepEqual(filtered.get(name), ['-1', '1'], `${name} must be denied with EPERM`);
  }
  // Without the filter these answer differently (the probe arguments reach the kernel).
  for (const name of ['ptrace', 'keyctl', 'add_key', 'perf_event_open', 'setns'] as const) {
    assert.notDeepEqual(unfiltered.get(name), ['-1', '1'], `${name} without the filter: ${unfiltered.get(name)?.join(' ')}`);
  }
});

test('new user namespaces are refused (unshare, clone, clone3); ordinary forks and threads still work', async () => {
  const body = `
r, e = call(${syscallNumber('unshare', arch)}, 0x10000000); print('unshare-user', r, e)
r, e = call(${syscallNumber('clone3', arch)}, 0, 0); print('clone3', r, e)
import subprocess, threading
print('fork', subprocess.run(['echo', 'child'], capture_output=True, text=True).stdout.strip())
th = threading.Thread(target=lambda: print('thread ran')); th.start(); th.join()
print('unshare-cmd', subprocess.run(['unshare', '-U', 'true'], capture_output=True, text=True).returncode)
`;
  const out = parse(await probe(t, 'ns', body));
  assert.deepEqual(out.get('unshare-user'), ['-1', '1']);
  assert.deepEqual(out.get('clone3'), ['-1', '38'], 'clone3 answers ENOSYS so libc falls back to clone');
  assert.deepEqual(out.get('fork'), ['child']);
  assert.deepEqual(out.get('thread'), ['ran']);
  assert.notEqual(out.get('unshare-cmd')?.[0], '0', 'unshare -U (clone/unshare with CLONE_NEWUSER) fails');
});

test('the kernel keyring cannot carry data from one project to another', async () => {
  // All sandboxes run as host uid 65534, whose user keyring the kernel shares between them:
  // project A stores a key there, project B lists the keys it can see (/proc/keys) and reads them.
  const writer = (tag: string) => `
r, e = call(${syscallNumber('add_key', arch)}, b'user', b'${tag}', b'secret-of-project-a', 19, -4)
print('add', r, e)
if r > 0: print('perm', *call(${syscallNumber('keyctl', arch)}, 5, r, 0x3f3f0000))
`;
  const reader = (tag: string) => `
seen = [l for l in open('/proc/keys') if '${tag}' in l]
print('seen', len(seen))
for l in seen:
    buf = ctypes.create_string_buffer(64)
    n, e = call(${syscallNumber('keyctl', arch)}, 11, int(l.split()[0], 16), buf, 64)
    print('read', buf.raw[:max(n, 0)].decode() or e)
`;
  const tag = (what: string) => `tandem-leak-${what}-${process.pid}-${Date.now()}`;
  // Control, without the filter: the leak is real on this kernel.
  const control = tag('control');
  const added = parse(await probe(open, 'proj-a', writer(control))).get('add')!;
  try {
    assert.ok(Number(added[0]) > 0, `control: add_key without the filter should work: ${added.join(' ')}`);
    const b = parse(await probe(open, 'proj-b', reader(control)));
    assert.deepEqual(b.get('seen'), ['1'], 'control: project B sees project A\'s key');
    assert.deepEqual(b.get('read'), ['secret-of-project-a'], 'control: and reads it');
  } finally {
    if (Number(added[0]) > 0) await probe(open, 'proj-a', `call(${syscallNumber('keyctl', arch)}, 21, ${Number(added[0])})`); // KEYCTL_INVALIDATE
  }
  // With the filter: A cannot store a key, so B has nothing to find; keyctl itself is denied.
  const filtered = tag('filtered');
  assert.deepEqual(parse(await probe(t, 'proj-a', writer(filtered))).get('add'), ['-1', '1']);
  assert.deepEqual(parse(await probe(t, 'proj-b', reader(filtered))).get('seen'), ['0']);
  const denied = parse(await probe(t, 'proj-b', `print('keyctl', *call(${syscallNumber('keyctl', arch)}, 11, ${Number(added[0]) || 1}, None, 0))`));
  assert.deepEqual(denied.get('keyctl'), ['-1', '1']);
});

function parse(output: string): Map<string, string[]> {
  const map = new Map<string, string[]>();
  for (const line of output.split('\n')) {
    const [key, ...rest] = line.trim().split(/\s+/);
    if (key) map.set(key, rest);
  }
  return map;
}
