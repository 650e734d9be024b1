import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadEnv } from './env.ts';
import { sandboxLimitsFromEnv } from './createSandboxes.ts';

const dir = mkdtempSync(join(tmpdir(), 'tandem-sandbox-env-'));
chmodSync(dir, 0o711); // reachable by the sandbox uid, like a data dir in a normal checkout
test.after(() => rmSync(dir, { recursive: true, force: true }));
const load = (vars: Record<string, string>) => loadEnv({ TANDEM_DATA_DIR: dir, TANDEM_SECRET: 'x'.repeat(32), ...vars }, []);

test('sandboxes live in <data dir>/sandboxes unless TANDEM_SANDBOX_DIR says otherwise; unsandboxed runs are off by default', () => {
  const env = load({});
  assert.equal(env.sandboxDir, join(dir, 'sandboxes'));
  assert.equal(env.TANDEM_ALLOW_UNSANDBOXED, 'false');
  assert.deepEqual(sandboxLimitsFromEnv(env), {}, 'the sandbox package defaults apply');
  assert.equal(load({ TANDEM_SANDBOX_DIR: '/srv/tandem/sandboxes' }).sandboxDir, '/srv/tandem/sandboxes');
  assert.throws(() => load({ TANDEM_ALLOW_UNSANDBOXED: 'yes' }), /TANDEM_ALLOW_UNSANDBOXED/);
});

test('a data dir under a private parent keeps its working copies in the system temp dir instead', () => {
  const parent = mkdtempSync(join(tmpdir(), 'tandem-private-')); // 0700, like a home directory
  try {
    const env = loadEnv({ TANDEM_DATA_DIR: join(parent, 'data'), TANDEM_SECRET: 'x'.repeat(32) }, []);
    assert.match(env.sandboxDir, new RegExp(`^${tmpdir()}/tandem-sandboxes-[0-9a-f]{12}$`));
    assert.equal(loadEnv({ TANDEM_DATA_DIR: join(parent, 'data'), TANDEM_SECRET: 'x'.repeat(32) }, []).sandboxDir, env.sandboxDir, 'stable per data dir');
  } finally {
    rmSync(parent, { recursive: true, force: true });
  }
});

test('limit overrides are converted to the sandbox units and validated', () => {
  const env = load({
    TANDEM_SANDBOX_MEMORY_MB: '256', TANDEM_SANDBOX_MAX_PROCESSES: '64', TANDEM_SANDBOX_CPUS: '0.5',
    TANDEM_SANDBOX_RUN_TIMEOUT_SECONDS: '1.5', TANDEM_SANDBOX_OUTPUT_KB: '512',
  });
  assert.deepEqual(sandboxLimitsFromEnv(env), {
    memoryBytes: 256 * 1024 * 1024, pidsMax: 64, cpuCores: 0.5, runTimeoutMs: 1500, outputCapBytes: 512 * 1024,
  });
  assert.throws(() => load({ TANDEM_SANDBOX_MEMORY_MB: '4' }), /TANDEM_SANDBOX_MEMORY_MB/);
  assert.throws(() => load({ TANDEM_SANDBOX_MAX_PROCESSES: 'lots' }), /TANDEM_SANDBOX_MAX_PROCESSES/);
});

test('the per-project disk quota defaults to 1 GiB, can be turned off with 0, and refuses tiny values', () => {
  assert.equal(load({}).TANDEM_SANDBOX_DISK_MB, 1024);
  assert.equal(load({ TANDEM_SANDBOX_DISK_MB: '0' }).TANDEM_SANDBOX_DISK_MB, 0);
  assert.equal(load({ TANDEM_SANDBOX_DISK_MB: '2048' }).TANDEM_SANDBOX_DISK_MB, 2048);
  for (const bad of ['8', '-1', 'big']) assert.throws(() => load({ TANDEM_SANDBOX_DISK_MB: bad }), /TANDEM_SANDBOX_DISK_MB/);
});
