import { AgentService, type AcpAgentConfig, type AgentServiceOptions, type EventHub, type LiveProjectFiles, type SearchWorkers } from '@tandem/api';
import type { PrismaClient } from '@tandem/db';
import type { SandboxHost } from '@tandem/sandbox';

/**
 * Agent runs: the service on the live documents and the same sandbox host as runs and terminals.
 * Runs a previous process left working are marked interrupted (with several nodes, each
 * project's when this node becomes its home, in createCluster).
 */
export async function createAgent(deps: {
  prisma: PrismaClient; hub: EventHub; sync: AgentServiceOptions['documents']; files: LiveProjectFiles; searches: SearchWorkers; sandbox?: SandboxHost; perProject: boolean;
  maxFilesPerProject: number; acpAgents: readonly AcpAgentConfig[];
}): Promise<AgentService> {
  const service = new AgentService({
    prisma: deps.prisma, hub: deps.hub, documents: deps.sync, files: deps.files, searches: deps.searches, maxFilesPerProject: deps.maxFilesPerProject, acpAgents: deps.acpAgents,
    ...(deps.sandbox ? { sandbox: deps.sandbox } : {}),
  });
  if (!deps.perProject) {
    const interrupted = await service.recoverInterrupted();
    if (interrupted > 0) console.info(`[agent] ${interrupted} agent run(s) were interrupted by the previous server stop; their changes stay reviewable`);
  }
  return service;
}
