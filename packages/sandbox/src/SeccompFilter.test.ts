import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  auditArch, buildSeccompFilter, CLONE_NEWUSER, DENIED_SYSCALLS, evaluateSeccompFilter, SECCOMP_RET_ALLOW,
  SECCOMP_RET_ERRNO, SECCOMP_RET_KILL_PROCESS, syscallNumber, type SeccompArch,
} from './SeccompFilter.ts';

const EPERM = SECCOMP_RET_ERRNO | 1;

for (const arch of ['x64', 'arm64'] as SeccompArch[]) {
  const program = buildSeccompFilter(arch);
  const run = (nr: number, args: number[] = []) => evaluateSeccompFilter(program, { nr, arch: auditArch(arch), args });

  test(`${arch}: every denied syscall gets EPERM; common syscalls are allowed`, () => {
    for (const name of DENIED_SYSCALLS) assert.equal(run(syscallNumber(name, arch)), EPERM, name);
    // read, write, openat, execve, exit_group, fork-style clone
    const allowed = arch === 'x64' ? [0, 1, 257, 59, 231] : [63, 64, 56, 221, 94];
    for (const nr of allowed) assert.equal(run(nr), SECCOMP_RET_ALLOW, String(nr));
  });

  test(`${arch}: clone and unshare are allowed unless they ask for a new user namespace; clone3 gets ENOSYS`, () => {
    for (const name of ['clone', 'unshare'] as const) {
      assert.equal(run(syscallNumber(name, arch), [0x01200011]), SECCOMP_RET_ALLOW, `${name} fork flags`);
      assert.equal(run(syscallNumber(name, arch), [CLONE_NEWUSER | 0x11]), EPERM, `${name} CLONE_NEWUSER`);
    }
    assert.equal(run(syscallNumber('clone3', arch)), SECCOMP_RET_ERRNO | 38);
  });

  test(`${arch}: another architecture's syscalls kill the process`, () => {
    assert.equal(evaluateSeccompFilter(program, { nr: 0, arch: 0x40000003 /* i386 */ }), SECCOMP_RET_KILL_PROCESS);
  });
}

test('x64: x32-ABI syscall numbers cannot bypass the table', () => {
  const program = buildSeccompFilter('x64');
  assert.equal(evaluateSeccompFilter(program, { nr: 0x40000000 | 250, arch: auditArch('x64') }), EPERM);
});
