import type { PrismaClient } from '@tandem/db';
import { AppError } from '@tandem/protocol';
import { anyEditor, parseApprovalPolicy, type ApprovalPolicy } from '@tandem/review';

/** A project's stored approval setting as the one review model reads it (AI edits and agent changesets alike). */
export function approvalPolicyOf(
  settings: { approvalPolicy: string; approvalsRequired: number },
  onInvalid: (error: unknown) => void,
): ApprovalPolicy {
  try {
    return parseApprovalPolicy({ kind: settings.approvalPolicy, n: settings.approvalsRequired });
  } catch (error) {
    onInvalid(error);
    return anyEditor;
  }
}

/**
 * Projects' approval policies: decisions always read the current setting (`load`); views may use
 * the last one read (`current`), refreshed when the owner changes it (`forget`).
 */
export class ApprovalPolicies {
  readonly #cache = new Map<string, ApprovalPolicy>();

  constructor(
    private readonly prisma: PrismaClient,
    private readonly logError: (message: string, error: unknown) => void,
  ) {}

  async load(projectId: string): Promise<ApprovalPolicy> {
    const settings = await this.prisma.project.findUnique({ where: { id: projectId }, select: { approvalPolicy: true, approvalsRequired: true } });
    if (!settings) throw new AppError('NOT_FOUND', 'Project not found.');
    const policy = approvalPolicyOf(settings, (error) => this.logError(`[review] project ${projectId} has an invalid approval policy; using any_editor`, error));
    this.#cache.set(projectId, policy);
    return policy;
  }

  async current(projectId: string): Promise<ApprovalPolicy> {
    return this.#cache.get(projectId) ?? (await this.load(projectId).catch(() => anyEditor));
  }

  forget(projectId: string): void {
    this.#cache.delete(projectId);
  }
}
