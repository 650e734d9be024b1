import type { PrismaClient } from '@tandem/db';
import type { Role } from '@tandem/protocol';

/**
 * Members' roles, so a project call (a completion's start, every tab's requests) costs no
 * database query. Exact: every membership change calls `changed` on every node (through
 * ProjectEvents.accessChanged and the node bus), deletion calls `forgetProject`, and a read that
 * began before a change is not stored. Non-members are not cached (a new membership needs no
 * invalidation; probing unknown projects cannot fill the cache). `maxAgeMs` bounds how long a
 * lost bus message could matter.
 */
export class MembershipCache {
  private readonly roles = new Map<string, { role: Role; at: number }>();
  private generation = 0;

  constructor(
    private readonly opts: { maxAgeMs?: number; maxEntries?: number; now?: () => number } = {},
  ) {}

  async role(prisma: PrismaClient, projectId: string, userId: string): Promise<Role | null> {
    const key = `${projectId}\n${userId}`;
    const now = this.opts.now ?? Date.now;
    const hit = this.roles.get(key);
    if (hit && now() - hit.at < (this.opts.maxAgeMs ?? 60_000)) return hit.role;
    const readAt = this.generation;
    const m = await prisma.membership.findUnique({ where: { projectId_userId: { projectId, userId } }, select: { role: true } });
    if (!m) {
      this.roles.delete(key);
      return null;
    }
    if (readAt === this.generation) {
      if (this.roles.size >= (this.opts.maxEntries ?? 50_000)) this.roles.delete(this.roles.keys().next().value as string);
      this.roles.set(key, { role: m.role, at: now() });
    }
    return m.role;
  }

  /** A member's role changed or they were removed (null), here or on another node. */
  changed(projectId: string, userId: string): void {
    this.generation++;
    this.roles.delete(`${projectId}\n${userId}`);
  }

  forgetProject(projectId: string): void {
    this.generation++;
    for (const key of this.roles.keys()) if (key.startsWith(`${projectId}\n`)) this.roles.delete(key);
  }

  clear(): void {
    this.generation++;
    this.roles.clear();
  }
}
