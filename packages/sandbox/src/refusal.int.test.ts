import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isAppError } from '@tandem/protocol';
import { createTestHost, runAndCollect } from './createTestHost.ts';

test('missing bubblewrap: checkIsolation says so and runs/terminals are refused with a clear error', async () => {
  const t = createTestHost({ bwrapPath: '/nonexistent/bwrap' });
  try {
    const report = await t.host.checkIsolation();
    assert.equal(report.sandboxed, false);
    assert.equal(report.canRun, false);
    assert.ok(report.missing.some((m) => m.includes('bubblewrap') && m.includes('/nonexistent/bwrap')), report.missing.join('; '));
    await t.host.syncWorkingCopy('p', [{ path: 'main.py', content: 'print(1)' }]);
    const refused = (e: unknown) =>
      isAppError(e) && e.code === 'UNAVAILABLE' && /Running code is disabled/.test(e.message) && /bubblewrap/.test(e.message);
    await assert.rejects(t.host.run('p', 'python3 main.py'), refused);
    await assert.rejects(t.host.openTerminal('p', { cols: 80, rows: 24 }), refused);
    assert.ok(t.logs.some((l) => l.level === 'warn' && /runs are refused/.test(l.message)));
  } finally {
    await t.cleanup();
  }
});

test('allowUnsandboxed is an explicit, loudly logged opt-out', async () => {
  const t = createTestHost({ bwrapPath: '/nonexistent/bwrap', allowUnsandboxed: true });
  try {
    assert.ok(t.logs.some((l) => l.level === 'error' && /allowUnsandboxed/.test(l.message)), 'logged at construction');
    const report = await t.host.checkIsolation();
    assert.equal(report.sandboxed, false);
    assert.equal(report.canRun, true);
    await t.host.syncWorkingCopy('p', [{ path: 'main.py', content: 'print("unsandboxed ok")' }]);
    const { result, output } = await runAndCollect(t.host, 'p', 'python3 main.py');
    assert.equal(output, 'unsandboxed ok\n');
    assert.equal(result.sandboxed, false);
    assert.ok(t.logs.some((l) => l.level === 'error' && /UNSANDBOXED run of project p/.test(l.message)), 'logged per run');
  } finally {
    await t.cleanup();
  }
});

test('a sandbox user that cannot reach the working copies is reported, not silently ignored', async () => {
  const t = createTestHost();
  try {
    const { chmodSync } = await import('node:fs');
    chmodSync(t.baseDir, 0o700);
    const report = await t.host.checkIsolation();
    if (process.getuid?.() === 0) {
      assert.equal(report.sandboxed, false);
      assert.ok(report.missing.some((m) => /searchable/.test(m)), report.missing.join('; '));
    } else {
      assert.equal(report.sandboxed, true, 'a non-root server runs programs as itself, so the mode does not matter');
    }
  } finally {
    await t.cleanup();
  }
});
