import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { AppError } from '@tandem/protocol';
import type { PrismaClient } from '@tandem/db';
import type { GitExport } from './GitExport.ts';
import { checkRemote, runGit, type GitRemotePolicy } from './gitCli.ts';

/** What members see of a project's remote: never the token. */
export interface GitRemoteView {
  url: string;
  branch: string;
  hasToken: boolean;
  updatedAt: string;
}

export const GIT_BRANCH = /^(?!-)(?!.*\.\.)(?!.*\/\/)(?!.*\/$)(?!.*\.lock$)[A-Za-z0-9._/-]{1,100}$/;
export const DEFAULT_PUSH_BRANCH = 'tandem/checkpoints';

/**
 * Pushing a project's checkpoints (the git export: commits + `refs/notes/ai`) to the remote its
 * owner configured. The branch is replaced by the export on every push (it is Tandem's copy of the
 * checkpoints); `refs/notes/ai` is merged with the remote's (its notes on other commits are kept).
 * The token is stored encrypted with the server's secret, sent only to the remote, never returned.
 */
export class GitPush {
  readonly #key: Buffer;

  constructor(
    private readonly prisma: PrismaClient,
    private readonly exporter: () => GitExport | null,
    private readonly policy: GitRemotePolicy,
    secret: string,
  ) {
    this.#key = createHash('sha256').update(`tandem git remote token\0${secret}`).digest();
  }

  async remote(projectId: string): Promise<GitRemoteView | null> {
    const row = await this.prisma.gitRemote.findUnique({ where: { projectId } });
    return row && { url: row.url, branch: row.branch, hasToken: row.token !== null, updatedAt: row.updatedAt.toISOString() };
  }

  /** `token`: a new token, `null` to remove it, absent to keep the stored one. */
  async setRemote(projectId: string, input: { url: string; branch: string; token?: string | null }, by: string): Promise<GitRemoteView> {
    const { url } = await checkRemote(input.url, this.policy);
    if (!GIT_BRANCH.test(input.branch)) throw new AppError('BAD_INPUT', 'Not a valid branch name.');
    const token = input.token === undefined ? undefined : input.token === null || input.token === '' ? null : this.#seal(input.token);
    await this.prisma.gitRemote.upsert({
      where: { projectId },
      create: { projectId, url, branch: input.branch, token: token ?? null, updatedById: by },
      update: { url, branch: input.branch, updatedById: by, ...(token !== undefined ? { token } : {}) },
    });
    return (await this.remote(projectId))!;
  }

  async removeRemote(projectId: string): Promise<void> {
    await this.prisma.gitRemote.deleteMany({ where: { projectId } });
  }

  async push(projectId: string, by: { id: string; name: string }): Promise<{ commits: number; branch: string; url: string }> {
    const row = await this.prisma.gitRemote.findUnique({ where: { projectId } });
    if (!row) throw new AppError('BAD_INPUT', 'Set the remote to push to first.');
    const exporter = this.exporter();
    if (!exporter) throw new AppError('UNAVAILABLE', 'Git export is not available on this server.');
    const remote = await checkRemote(row.url, this.policy);
    const token = row.token ? this.#open(row.token) : null;
    return exporter.inRepository(projectId, by, async (dir, commits) => {
      const home = join(dir, '.git', 'tandem-home');
      await mkdir(home);
      const options = {
        cwd: dir, home, remote, policy: this.policy,
        ...(token ? { authorization: `Basic ${Buffer.from(`x-access-token:${token}`).toString('base64')}` } : {}),
      };
      // Keep the remote's notes on other commits: fetch them (if any) and merge ours in.
      const remoteNotes = await runGit(['ls-remote', '--', remote.url, 'refs/notes/ai'], options);
      if (remoteNotes.trim() !== '') {
        await runGit(['fetch', '-q', '--', remote.url, '+refs/notes/ai:refs/notes/remote-ai'], options);
        await runGit(['-c', 'user.name=Tandem', '-c', 'user.email=export@tandem.invalid', 'notes', '--ref=ai', 'merge', '-q', '-s', 'ours', 'refs/notes/remote-ai'], options);
      }
      const notes = await runGit(['rev-parse', '--verify', '-q', 'refs/notes/ai'], options).then(() => ['refs/notes/ai:refs/notes/ai'], () => []);
      await runGit(['push', '-q', '--', remote.url, `+refs/heads/main:refs/heads/${row.branch}`, ...notes], options);
      return { commits, branch: row.branch, url: row.url };
    });
  }

  #seal(token: string): string {
    if (token.length > 1000 || /[\r\n]/.test(token)) throw new AppError('BAD_INPUT', 'That does not look like an access token.');
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.#key, iv);
    const data = Buffer.concat([cipher.update(token, 'utf8'), cipher.final()]);
    return [iv, cipher.getAuthTag(), data].map((b) => b.toString('base64url')).join('.');
  }

  #open(sealed: string): string {
    const [iv, tag, data] = sealed.split('.').map((p) => Buffer.from(p, 'base64url'));
    try {
      const decipher = createDecipheriv('aes-256-gcm', this.#key, iv!);
      decipher.setAuthTag(tag!);
      return Buffer.concat([decipher.update(data!), decipher.final()]).toString('utf8');
    } catch {
      throw new AppError('BAD_INPUT', 'The stored token can no longer be read (the server\'s secret changed): set it again.');
    }
  }
}
