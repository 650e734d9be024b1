import { test } from 'node:test';
import assert from 'node:assert/strict';
import { newUser, screenshot, signUp, trpc, useServerAndBrowser } from './harness.ts';

/**
 * The sandbox queue in Chromium: the server has one sandbox slot and someone else holds it.
 * B presses Run; B and C (a viewer of B's project) both see "Run queued (position 1)" in the
 * panel; when the slot frees, the run starts for both and the notice goes away.
 */
const e2e = useServerAndBrowser({ TANDEM_SANDBOX_MAX_SESSIONS: '1' });


test('a Run that waits for a sandbox shows its position to everyone in the project, then starts', async () => {
  const pageErrors: string[] = [];
  const [a, b, c] = await Promise.all([newUser(e2e.browser, e2e.server.url), newUser(e2e.browser, e2e.server.url), newUser(e2e.browser, e2e.server.url)]);
  for (const [name, u] of [['B', b], ['C', c]] as const) u.page.on('pageerror', (e) => pageErrors.push(`${name}: ${e.message}`));

  // A holds the server's only sandbox slot with a terminal in A's own project.
  await signUp(a.page, 'Ada Lovelace', 'ada-queue@example.com');
  await a.page.waitForURL(/\/projects$/);
  const hogProject = await trpc<{ id: string }>(a.page, 'mutation', 'projects.create', { name: 'Busy', template: 'node' });
  const held = await trpc<{ id: string }>(a.page, 'mutation', 'sandbox.terminals.open', { projectId: hogProject.id, cols: 80, rows: 24 });

  await signUp(b.page, 'Charles Babbage', 'charles-queue@example.com');
  await b.page.waitForURL(/\/projects$/);
  const project = await trpc<{ id: string }>(b.page, 'mutation', 'projects.create', { name: 'Queued run', template: 'node' });
  await trpc(b.page, 'mutation', 'sandbox.setRunCommand', { projectId: project.id, command: 'echo started; sleep 30' });
  const invite = await trpc<{ token: string }>(b.page, 'mutation', 'invites.create', { projectId: project.id, role: 'viewer' });
  await signUp(c.page, 'Grace Hopper', 'grace-queue@example.com');
  await c.page.waitForURL(/\/projects$/);
  await trpc(c.page, 'mutation', 'invites.accept', { token: invite.token });
  await Promise.all([b, c].map((u) => u.page.goto(`/projects/${project.id}`)));
  await Promise.all([b, c].map((u) => u.page.getByTestId('sandbox-panel').waitFor()));

  await b.page.getByTestId('run-button').click();
  for (const u of [b, c]) {
    const pill = u.page.getByTestId('sandbox-queued');
    await pill.waitFor({ timeout: 30_000 });
    assert.equal((await pill.innerText()).trim(), 'Run queued (position 1)');
    assert.match((await pill.getAttribute('title'))!, /Charles Babbage's run starts when one frees up/);
  }
  await b.page.setViewportSize({ width: 1440, height: 900 });
  await screenshot(b.page, 'queue-01-runner-1440');
  await c.page.setViewportSize({ width: 800, height: 800 });
  await screenshot(c.page, 'queue-02-viewer-800');

  // The slot frees: the run starts for everyone, the notice goes away.
  await trpc(a.page, 'mutation', 'sandbox.terminals.kill', { projectId: hogProject.id, terminalId: held.id });
  for (const u of [b, c]) {
    await u.page.getByTestId('sandbox-queued').waitFor({ state: 'detached', timeout: 30_000 });
    await u.page.getByText('Running…').waitFor({ timeout: 30_000 });
  }
  await screenshot(b.page, 'queue-03-started');
  assert.deepEqual(pageErrors, []);
});
