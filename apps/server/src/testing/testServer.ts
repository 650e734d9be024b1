import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadEnv } from '../env.ts';
import { startTandemServer, type TandemServer } from '../TandemServer.ts';
import type { SignedIn } from './clients.ts';

/** The real server in-process on a free port with a fresh embedded database (no web app). */
export async function startTestServer(name: string, env: Record<string, string> = {}): Promise<{ server: TandemServer; close(): Promise<void> }> {
  const dataDir = mkdtempSync(join(tmpdir(), `tandem-${name}-`));
  const server = await startTandemServer(loadEnv({ PORT: '0', HOST: '127.0.0.1', TANDEM_DATA_DIR: dataDir, COOKIE_SECURE: 'false', ...env }, []), { withWeb: false });
  return {
    server,
    close: async () => {
      await server.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** A project from the Node starter owned by `owner`, with each of `members` joined in its role. */
export async function starterProject(owner: SignedIn, name: string, members: [SignedIn, 'editor' | 'viewer'][]): Promise<string> {
  const projectId = (await owner.api.projects.create.mutate({ name, template: 'node' })).id;
  for (const [who, role] of members) {
    const inv = await owner.api.invites.create.mutate({ projectId, role });
    await who.api.invites.accept.mutate({ token: inv.token });
  }
  return projectId;
}
