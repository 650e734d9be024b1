import { execFile } from 'node:child_process';
import { accessSync, closeSync, constants as fsc, fchownSync, ftruncateSync, lstatSync, mkdirSync, openSync, rmSync, statfsSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { AppError } from '@tandem/protocol';

/**
 * Where one project's environment lives on the host. `dataDir` holds `work/` (the working copy,
 * bound as /project: documents, node_modules, .venv, caches under .cache) and `tmp/<session>`
 * (bound as /tmp). With a quota, `dataDir` is the mount point of the project's own ext4 image,
 * so everything a program writes — /tmp included — counts against it and a full disk fails only
 * that project's writes (ENOSPC) without touching the server's filesystem.
 */
export interface ProjectDisk {
  projectDir: string;
  dataDir: string;
  workDir: string;
  tmpRoot: string;
  /** True when dataDir is a quota-limited image; false: plain directories on the host disk. */
  quota: boolean;
}

export interface DiskUsage {
  usedBytes: number;
  quotaBytes: number;
  freeBytes: number;
  freeInodes: number;
}

export type DiskAvailability = { quota: true } | { quota: false; reason: string };

interface ProjectDisksOptions {
  rootDir: string;
  /** Size of each project's image; 0 turns quotas off (plain directories). */
  quotaBytes: number;
  /** The sandbox user: owns work/ and each session's tmp dir. */
  owner: { uid: number; gid: number } | null;
  log: (level: 'info' | 'warn' | 'error', message: string) => void;
  /**
   * Disks kept mounted at once (each holds a loop device): past it, the least recently used disks
   * of projects with nothing running are unmounted (mounted again at their next use, ~50 ms).
   */
  maxMounted?: number;
  /** A disk used within this long is never unmounted for the cap. */
  mountIdleMs?: number;
  /** Whether a project has runs or terminals (their disks stay mounted). */
  isBusy?: (projectId: string) => boolean;
}

const MKFS = '/usr/sbin/mkfs.ext4';
const MOUNT = '/usr/bin/mount';
const UMOUNT = '/usr/bin/umount';
const IMAGE = 'disk.img';
const DATA = 'disk';
/** Below this much free space (or no free inodes) the disk counts as full. */
const FULL_BELOW_BYTES = 1024 * 1024;
const TOOL_TIMEOUT_MS = 30_000;

/**
 * Per-project disks: a sparse ext4 image per project, loop-mounted (nosuid, nodev) at
 * `<root>/<projectId>/disk` on first use and kept mounted while the server runs. The image file
 * grows only as the project writes (sparse), up to the quota. Without the privileges for loop
 * mounts (not root, no /dev/loop-control, no mkfs.ext4), projects get plain directories and no
 * quota; `availability()` says why.
 */
export class ProjectDisks {
  private readonly opts: ProjectDisksOptions;
  private available: DiskAvailability | null = null;
  private readonly pending = new Map<string, Promise<ProjectDisk>>();
  /** Removals in progress: a disk being deleted is re-created only after it is gone. */
  private readonly removing = new Map<string, Promise<void>>();
  /** Projects whose disk this process mounted or found mounted (unmounted on close). */
  private readonly mounted = new Set<string>();
  private readonly lastUsed = new Map<string, number>();
  /** Disks being unmounted for the cap: their next use waits, then mounts again. */
  private readonly evicting = new Map<string, Promise<void>>();

  constructor(options: ProjectDisksOptions) {
    this.opts = options;
  }

  get quotaBytes(): number {
    return this.opts.quotaBytes;
  }

  /** Whether quotas can be enforced here; checked once (tools, privileges, loop devices). */
  availability(): DiskAvailability {
    if (this.available) return this.available;
    const reason = this.opts.quotaBytes <= 0 ? 'disabled by configuration (quota 0)'
      : process.getuid?.() !== 0 ? 'the server is not root (loop mounts need it)'
      : !canAccess('/dev/loop-control', fsc.W_OK) ? 'no loop devices (/dev/loop-control)'
      : !canAccess(MKFS, fsc.X_OK) ? `${MKFS} not found (install e2fsprogs)`
      : !canAccess(MOUNT, fsc.X_OK) ? `${MOUNT} not found`
      : null;
    this.available = reason === null ? { quota: true } : { quota: false, reason };
    return this.available;
  }

  /**
   * Proves loop-mounted images work here (a tiny image, made, mounted, written, removed) and
   * falls back to plain directories, with the reason, if they do not.
   */
  async probe(): Promise<DiskAvailability> {
    if (!this.availability().quota) return this.available!;
    const dir = join(this.opts.rootDir, '.probe-disk');
    try {
      rmSync(dir, { recursive: true, force: true });
      mkdirSync(join(dir, DATA), { recursive: true, mode: 0o700 });
      await this.mountImage(join(dir, IMAGE), join(dir, DATA), 4 * 1024 * 1024);
      await tool(UMOUNT, [join(dir, DATA)]);
    } catch (e) {
      this.available = { quota: false, reason: `loop-mounting a disk image failed (${(e as AppError).detail ?? (e as Error).message})` };
      if (isMountPoint(join(dir, DATA))) await tool(UMOUNT, ['-l', join(dir, DATA)]).catch(() => {});
    }
    rmSync(dir, { recursive: true, force: true });
    return this.available!;
  }

  paths(projectId: string): ProjectDisk {
    const projectDir = join(this.opts.rootDir, projectId);
    const dataDir = join(projectDir, DATA);
    return { projectDir, dataDir, workDir: join(dataDir, 'work'), tmpRoot: join(dataDir, 'tmp'), quota: this.availability().quota };
  }

  /** Creates and mounts the project's disk if needed. Concurrent calls share one attempt. */
  ensure(projectId: string): Promise<ProjectDisk> {
    this.lastUsed.set(projectId, Date.now());
    const removing = this.removing.get(projectId);
    if (removing) return removing.then(() => this.ensure(projectId));
    const evicting = this.evicting.get(projectId);
    if (evicting) return evicting.then(() => this.ensure(projectId));
    const disk = this.paths(projectId);
    if (this.mounted.has(projectId) || (!disk.quota && isDir(disk.workDir) && isDir(disk.tmpRoot))) return Promise.resolve(disk);
    let p = this.pending.get(projectId);
    if (!p) {
      p = this.prepare(projectId, disk).finally(() => {
        this.pending.delete(projectId);
        this.evictIdle();
      });
      this.pending.set(projectId, p);
    }
    return p;
  }

  /** Unmounts least recently used idle disks past `maxMounted` (never a busy or recent one). */
  private evictIdle(): void {
    const max = this.opts.maxMounted ?? 64;
    if (this.mounted.size <= max) return;
    const now = Date.now();
    const idleMs = this.opts.mountIdleMs ?? 30_000;
    const candidates = [...this.mounted]
      .filter((id) => !this.pending.has(id) && !this.opts.isBusy?.(id) && now - (this.lastUsed.get(id) ?? 0) >= idleMs)
      .sort((a, b) => (this.lastUsed.get(a) ?? 0) - (this.lastUsed.get(b) ?? 0));
    for (const id of candidates.slice(0, this.mounted.size - max)) {
      const { dataDir } = this.paths(id);
      this.mounted.delete(id);
      // No lazy fallback here: a busy disk simply stays mounted.
      const done = tool(UMOUNT, [dataDir])
        .catch((e: unknown) => {
          this.mounted.add(id);
          this.opts.log('warn', `unmounting idle ${dataDir} failed: ${(e as Error).message}`);
        })
        .finally(() => this.evicting.delete(id));
      this.evicting.set(id, done);
    }
  }

  /** Disks mounted right now (for tests and status). */
  mountedCount(): number {
    return this.mounted.size;
  }

  /** A private /tmp for one run or terminal, on the project's disk. Remove it with `removeTmp`. */
  createTmp(disk: ProjectDisk, sessionId: string): string {
    const dir = join(disk.tmpRoot, sessionId);
    mkdirSync(dir, { mode: 0o700 });
    this.chown(dir);
    return dir;
  }

  removeTmp(dir: string): void {
    try {
      rmSync(dir, { recursive: true, force: true }); // never follows symlinks a program planted
    } catch (e) {
      this.opts.log('warn', `could not remove ${dir}: ${(e as Error).message}`);
    }
  }

  usage(projectId: string): DiskUsage | null {
    const disk = this.paths(projectId);
    if (!disk.quota || !this.mounted.has(projectId)) return null;
    try {
      const s = statfsSync(disk.dataDir);
      const quotaBytes = s.blocks * s.bsize;
      return { quotaBytes, usedBytes: (s.blocks - s.bfree) * s.bsize, freeBytes: s.bavail * s.bsize, freeInodes: s.ffree };
    } catch {
      return null;
    }
  }

  /** What a user sees when the project's disk is full. */
  fullMessage(): string {
    const q = this.opts.quotaBytes;
    const size = q >= 1024 ** 3 ? `${+(q / 1024 ** 3).toFixed(1)} GiB` : `${Math.round(q / 1024 ** 2)} MiB`;
    return `This project's disk is full (quota ${size}, shared by its files, installed packages, caches and /tmp): writes fail with "No space left on device". Delete files, or use Reset environment in the project settings.`;
  }

  isFull(projectId: string): boolean {
    const u = this.usage(projectId);
    return u !== null && (u.freeBytes < FULL_BELOW_BYTES || u.freeInodes === 0);
  }

  /** Deletes the project's environment: the image (or directories) and the sync manifest. */
  /**
   * `before` runs first (e.g. stopping the project's programs). From the moment this is called,
   * a new use of the disk waits until it is gone and then gets a fresh one.
   */
  remove(projectId: string, before?: () => Promise<void>): Promise<void> {
    const running = this.removing.get(projectId);
    if (running) return running;
    const disk = this.paths(projectId);
    // Never while the disk is being prepared (its mount point would vanish under the mount).
    const p = (async () => {
      await before?.();
      await this.pending.get(projectId)?.catch(() => undefined);
      await this.unmount(projectId);
      rmSync(disk.projectDir, { recursive: true, force: true });
    })().finally(() => this.removing.delete(projectId));
    this.removing.set(projectId, p);
    return p;
  }

  /** Unmounts every disk this process mounted (on shutdown). */
  async close(): Promise<void> {
    await Promise.all(this.evicting.values());
    for (const id of [...this.mounted]) await this.unmount(id);
  }

  private async prepare(projectId: string, disk: ProjectDisk): Promise<ProjectDisk> {
    mkdirSync(disk.projectDir, { recursive: true, mode: 0o711 });
    // Before per-project disks the working copy was <project>/work: its files are re-synced.
    rmSync(join(disk.projectDir, 'work'), { recursive: true, force: true });
    mkdirSync(disk.dataDir, { recursive: true, mode: 0o711 });
    if (disk.quota) {
      if (!isMountPoint(disk.dataDir)) await this.mountImage(join(disk.projectDir, IMAGE), disk.dataDir);
      this.mounted.add(projectId);
    }
    mkdirSync(disk.workDir, { recursive: true, mode: 0o700 });
    this.chown(disk.workDir);
    // Sessions of a previous server process left their /tmp dirs: nothing runs there any more.
    if (disk.quota || !isDir(disk.tmpRoot)) {
      rmSync(disk.tmpRoot, { recursive: true, force: true });
      mkdirSync(disk.tmpRoot, { mode: 0o711 });
    }
    return disk;
  }

  private async mountImage(image: string, mountPoint: string, sizeBytes = this.opts.quotaBytes): Promise<void> {
    let fresh = false;
    try {
      lstatSync(image);
    } catch {
      fresh = true;
    }
    try {
      if (fresh) {
        const fd = openSync(image, fsc.O_CREAT | fsc.O_EXCL | fsc.O_RDWR, 0o600);
        try {
          ftruncateSync(fd, sizeBytes); // sparse: takes host space only as the project writes
        } finally {
          closeSync(fd);
        }
        // No reserved blocks (-m 0); one inode per 8 KiB (node_modules is many small files).
        // A small journal (crash safety for installed packages); tiny test disks go without one.
        const journal = sizeBytes >= 128 * 1024 * 1024 ? ['-J', 'size=8'] : ['-O', '^has_journal'];
        await tool(MKFS, ['-q', '-F', '-m', '0', '-i', '8192', ...journal, '-E', 'lazy_itable_init=1,lazy_journal_init=1,nodiscard,root_owner=0:0', image]);
      }
      await tool(MOUNT, ['-o', 'loop,nosuid,nodev,noatime', '-t', 'ext4', image, mountPoint]);
    } catch (e) {
      if (fresh) rmSync(image, { force: true });
      throw new AppError('INTERNAL', 'The project disk could not be prepared.', `${image}: ${(e as Error).message}`);
    }
  }

  private async unmount(projectId: string): Promise<void> {
    const { dataDir } = this.paths(projectId);
    await this.evicting.get(projectId);
    this.mounted.delete(projectId);
    this.lastUsed.delete(projectId);
    if (!isMountPoint(dataDir)) return;
    try {
      await tool(UMOUNT, [dataDir]);
    } catch (e) {
      // Busy (a host process holds a file open): detach now, the kernel frees it when released.
      this.opts.log('warn', `unmounting ${dataDir} failed (${(e as Error).message}); detaching lazily`);
      await tool(UMOUNT, ['-l', dataDir]).catch(() => {});
    }
  }

  private chown(path: string): void {
    const o = this.opts.owner;
    if (o) {
      const fd = openSync(path, fsc.O_RDONLY | fsc.O_DIRECTORY | fsc.O_NOFOLLOW);
      try {
        fchownSync(fd, o.uid, o.gid);
      } finally {
        closeSync(fd);
      }
    }
  }
}

function tool(path: string, args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile(path, args, { timeout: TOOL_TIMEOUT_MS, env: { PATH: '/usr/sbin:/usr/bin:/sbin:/bin' } as unknown as NodeJS.ProcessEnv }, (error, _stdout, stderr) => {
      if (error) reject(new Error(`${path} ${args.join(' ')}: ${String(stderr).trim() || error.message}`));
      else resolve();
    });
  });
}

function canAccess(path: string, mode: number): boolean {
  try {
    accessSync(path, mode);
    return true;
  } catch {
    return false;
  }
}

function isDir(path: string): boolean {
  try {
    return lstatSync(path).isDirectory();
  } catch {
    return false;
  }
}

/** A mount point sits on another device than its parent directory. */
function isMountPoint(path: string): boolean {
  try {
    return statSync(path).dev !== statSync(dirname(path)).dev;
  } catch {
    return false;
  }
}

export function isDiskFullError(e: unknown): boolean {
  const code = (e as NodeJS.ErrnoException)?.code;
  return code === 'ENOSPC' || code === 'EDQUOT';
}
