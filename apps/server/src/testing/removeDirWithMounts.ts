import { execFileSync } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';

/**
 * Deletes a test's data directory. A server killed with SIGKILL (a crash) leaves its project
 * disks loop-mounted inside it (the next server reuses them); detach those first, or rm fails
 * with EBUSY.
 */
export function removeDirWithMounts(dir: string): void {
  const mountPoints = readFileSync('/proc/self/mounts', 'utf8').split('\n')
    .map((line) => line.split(' ')[1]?.replace(/\\040/g, ' '))
    .filter((m): m is string => !!m && m.startsWith(dir + '/'));
  for (const m of mountPoints.reverse()) {
    try {
      execFileSync('/usr/bin/umount', ['-l', m], { stdio: 'ignore' });
    } catch {
      // already gone
    }
  }
  rmSync(dir, { recursive: true, force: true });
}
