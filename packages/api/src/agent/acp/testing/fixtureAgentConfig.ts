import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildSync } from 'esbuild';
import type { AcpAgentConfig } from '../acpAgents.ts';

const SOURCE = fileURLToPath(new URL('./fixtureAgent.ts', import.meta.url));
export const FIXTURE_MOUNT = '/opt/tandem-acp-fixture';

/**
 * The scripted agent bundled (SDK included) into one file in a folder the sandbox user can read,
 * and the deployment entry that runs it in the sandbox with `node`, mounted read-only.
 */
export function fixtureAgent(overrides: Partial<AcpAgentConfig> = {}): { config: AcpAgentConfig; dispose: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'tandem-acp-fixture-'));
  chmodSync(dir, 0o755);
  const file = join(dir, 'agent.mjs');
  buildSync({
    entryPoints: [SOURCE], outfile: file, bundle: true, platform: 'node', format: 'esm', target: 'node20', logLevel: 'error',
    banner: { js: "import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);" },
  });
  chmodSync(file, 0o644);
  return {
    config: {
      id: 'fixture', label: 'Fixture agent', command: 'node', args: [`${FIXTURE_MOUNT}/agent.mjs`], env: {}, egressHosts: [],
      mounts: [{ host: dir, sandbox: FIXTURE_MOUNT }], ...overrides,
    },
    dispose: () => rmSync(dir, { recursive: true, force: true }),
  };
}
