import { test } from 'node:test';
import assert from 'node:assert/strict';
import { findCgroupV1Mounts, findOwnCgroupPaths } from './CgroupHierarchy.ts';

test('finds v1 controller mounts, including combined ones, and ignores cgroup2', () => {
  const mounts = [
    'tmpfs /sys/fs/cgroup tmpfs rw,relatime,mode=755 0 0',
    'cgroup /sys/fs/cgroup/cpu,cpuacct cgroup rw,nosuid,cpu,cpuacct 0 0',
    'cgroup /sys/fs/cgroup/memory cgroup rw,relatime,memory 0 0',
    'cgroup2 /sys/fs/cgroup/unified cgroup2 rw,relatime 0 0',
  ].join('\n');
  assert.deepEqual(findCgroupV1Mounts(mounts), { cpu: '/sys/fs/cgroup/cpu,cpuacct', memory: '/sys/fs/cgroup/memory' });
});

test('reads own cgroup paths per controller', () => {
  const text = '9:name=systemd:/\n8:pids:/\n4:memory:/process_api/abc\n2:cpu,cpuacct:/x\n0::/\n';
  assert.deepEqual(findOwnCgroupPaths(text), { pids: '/', memory: '/process_api/abc', cpu: '/x' });
});
