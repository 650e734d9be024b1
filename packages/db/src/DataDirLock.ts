import { closeSync, mkdirSync, openSync, readFileSync, unlinkSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';

/**
 * An exclusive lock on the embedded database directory. PGlite is single-process: two processes
 * opening one data dir silently lose rows, so a second process must fail loudly instead.
 * A lock left by a dead process (crash, kill -9) is taken over.
 */
export class DataDirLock {
  private constructor(readonly path: string) {}

  static acquire(path: string): DataDirLock {
    mkdirSync(dirname(path), { recursive: true });
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        const fd = openSync(path, 'wx');
        writeSync(fd, String(process.pid));
        closeSync(fd);
        return new DataDirLock(path);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
        const pid = Number(readFileSync(path, 'utf8').trim());
        if (pid && pid !== process.pid && isAlive(pid)) {
          throw new Error(
            `The embedded database at ${dirname(path)} is in use by another Tandem process (pid ${pid}). ` +
              'Stop that process, use another TANDEM_DATA_DIR, or set DATABASE_URL to a PostgreSQL server to run several processes.',
          );
        }
        unlinkSync(path); // stale: its owner is gone
      }
    }
    throw new Error(`Could not lock ${path}`);
  }

  release(): void {
    try {
      if (Number(readFileSync(this.path, 'utf8').trim()) === process.pid) unlinkSync(this.path);
    } catch {
      // already gone
    }
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}
