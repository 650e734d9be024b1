import { AuthService, type PublicUser } from '@tandem/auth';
import type { PrismaClient } from '@tandem/db';
import type { Role } from '@tandem/protocol';
import { createCaller } from './root.ts';
import { createProvidersFromConfig } from '@tandem/inference';
import { EventHub } from './EventHub.ts';
import { AiService } from './ai/AiService.ts';
import type { Context, ProjectEvents, Services } from './trpc.ts';

/** Records project events so tests can assert what the server app would be told. */
export class RecordedEvents implements ProjectEvents {
  readonly log: string[] = [];
  accessChanged(projectId: string, userId: string, role: Role | null): void {
    this.log.push(`access:${projectId}:${userId}:${role}`);
  }
  projectDeleted(projectId: string): void {
    this.log.push(`deleted:${projectId}`);
  }
}

/** Services with no AI provider configured (pass your own AiService to test AI). */
export function testServices(hub = new EventHub()): Services {
  return { hub, ai: new AiService({ registry: createProvidersFromConfig({ providers: [] }), hub, notConfiguredHint: 'No AI provider is configured (test).' }) };
}

/** Builds tRPC callers for a test database, signed in as a given user (or anonymous). */
export function callerFactory(prisma: PrismaClient, auth = new AuthService(prisma, { secret: 'test-secret' }), events = new RecordedEvents(), services: Services = testServices()) {
  /** `signal` ends subscriptions started through this caller (as a closed HTTP request would). */
  const callerFor = (user: PublicUser | null, ip = '127.0.0.1', signal?: AbortSignal) => {
    const ctx: Context = { prisma, auth, events, services, user, ip, origin: 'http://localhost:3000' };
    return createCaller(ctx, { signal });
  };
  const signUp = async (name: string) => {
    return callerFor(null).auth.signUp({ email: `${name.toLowerCase()}-${Math.random().toString(36).slice(2, 7)}@example.com`, password: 'password123', name });
  };
  return { callerFor, signUp, events, auth, services };
}
