import { AuthService, type Credential, type PublicUser } from '@tandem/auth';
import type { PrismaClient } from '@tandem/db';
import type { Role } from '@tandem/protocol';
import { createCaller } from './root.ts';
import { createProvidersFromConfig } from '@tandem/inference';
import { EventHub } from './EventHub.ts';
import { MembershipCache } from './MembershipCache.ts';
import { AiService } from './ai/AiService.ts';
import type { Context, ProjectEvents, Services } from './trpc.ts';

/** A password every test account uses (passes the password policy). */
export const TEST_PASSWORD = 'tandem-test-password';

/** Records project events so tests can assert what the server app would be told. */
export class RecordedEvents implements ProjectEvents {
  readonly log: string[] = [];
  /** Invalidated like the server app does (callerFactory sets it from the services). */
  memberships: MembershipCache | undefined;
  accessChanged(projectId: string, userId: string, role: Role | null): void {
    this.log.push(`access:${projectId}:${userId}:${role}`);
    this.memberships?.changed(projectId, userId);
  }
  projectDeleted(projectId: string): void {
    this.log.push(`deleted:${projectId}`);
    this.memberships?.forgetProject(projectId);
  }
  credentialsRevoked(credentialIds: string[]): void {
    for (const id of credentialIds) this.log.push(`revoked:${id}`);
  }
}

/** Services with no AI provider configured (pass your own AiService to test AI). */
export function testServices(hub = new EventHub()): Services {
  return { hub, memberships: new MembershipCache(), ai: new AiService({ registry: createProvidersFromConfig({ providers: [] }), hub, notConfiguredHint: 'No AI provider is configured (test).' }) };
}

/** Builds tRPC callers for a test database, signed in as a given user (or anonymous). */
export function callerFactory(prisma: PrismaClient, auth = new AuthService(prisma, { secret: 'test-secret', signUpsPerIpPerHour: 100_000 }), events = new RecordedEvents(), services: Services = testServices()) {
  /**
   * `signal` ends subscriptions started through this caller (as a closed HTTP request would).
   * `credential`: how the caller signed in (default: a browser session).
   */
  if (events instanceof RecordedEvents) events.memberships ??= services.memberships;
  const callerFor = (user: PublicUser | null, ip = '127.0.0.1', signal?: AbortSignal, credential?: Credential) => {
    const ctx: Context = { prisma, auth, events, services, user, credential: credential ?? null, ip, origin: 'http://localhost:3000' };
    return createCaller(ctx, { signal });
  };
  const signUp = async (name: string) => {
    return callerFor(null).auth.signUp({ email: `${name.toLowerCase()}-${Math.random().toString(36).slice(2, 7)}@example.com`, password: TEST_PASSWORD, name });
  };
  return { callerFor, signUp, events, auth, services };
}
