// Project settings → Environment (branch sbxdisk): the disk use of the project's environment and
// the owner-only Reset environment, in Chromium at 1440 and 800 px.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Page } from 'playwright-core';
import { newUser, screenshot, signUp, useServerAndBrowser, waitFor } from './harness.ts';

const e2e = useServerAndBrowser({ TANDEM_SANDBOX_DISK_MB: '64' });

/** Calls a tRPC mutation from the page (its session cookie), as the IDE's client would. */
async function mutate(page: Page, path: string, input: unknown): Promise<unknown> {
  return page.evaluate(async ([p, i]) => {
    const res = await fetch(`/api/trpc/${p}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(i) });
    return res.json();
  }, [path, input] as const);
}

test('the owner sees the environment\'s disk use and resets it; an editor cannot', async () => {
  const a = await newUser(e2e.browser, e2e.server.url);
  await signUp(a.page, 'Ada Lovelace', 'ada-env@example.com');
  await a.page.waitForURL(/\/projects$/);
  await a.page.getByPlaceholder('New project name').fill('Env');
  await a.page.getByLabel('Template').selectOption('node');
  await a.page.getByRole('button', { name: 'Create project' }).click();
  await a.page.waitForURL(/\/projects\/[\w-]+$/);
  const projectUrl = a.page.url();
  const projectId = projectUrl.split('/').pop()!;

  // Something installed in the environment: 3 MiB in node_modules, written by a run.
  await mutate(a.page, 'sandbox.setRunCommand', { projectId, command: 'mkdir -p node_modules/big && head -c 3145728 /dev/zero > node_modules/big/blob && echo installed' });
  await mutate(a.page, 'sandbox.runs.start', { projectId });

  await a.page.goto(projectUrl + '/settings');
  const section = a.page.getByTestId('environment-settings');
  await section.scrollIntoViewIfNeeded();
  await waitFor('disk use shown', async () => /Disk: [\d.]+ MiB used of 64 MiB/.test((await section.textContent()) ?? ''), 30_000);
  const before = (await section.textContent())!;
  const used = Number(/Disk: ([\d.]+) MiB used/.exec(before)![1]);
  assert.ok(used >= 3, `disk use ${used} MiB includes node_modules`);
  for (const width of [1440, 800]) {
    await a.page.setViewportSize({ width, height: 900 });
    await section.scrollIntoViewIfNeeded();
    await screenshot(a.page, `environment-01-settings-${width}`);
  }

  a.page.once('dialog', (d) => void d.accept());
  await section.getByRole('button', { name: 'Reset environment' }).click();
  await section.getByRole('status').filter({ hasText: 'Environment reset' }).waitFor();
  await waitFor('disk use to drop', async () => {
    const m = /Disk: ([\d.]+) MiB used|nothing written yet/.exec((await section.textContent()) ?? '');
    return !!m && (m[1] === undefined || Number(m[1]) < used);
  }, 15_000);
  await screenshot(a.page, 'environment-02-reset-800');

  // An editor sees the section without the button, and the API refuses them.
  const invite = await mutate(a.page, 'invites.create', { projectId, role: 'editor' }) as { result: { data: { token: string } } };
  const b = await newUser(e2e.browser, e2e.server.url);
  await signUp(b.page, 'Charles Babbage', 'charles-env@example.com');
  await b.page.waitForURL(/\/projects$/);
  await mutate(b.page, 'invites.accept', { token: invite.result.data.token });
  await b.page.goto(projectUrl + '/settings');
  const theirs = b.page.getByTestId('environment-settings');
  await theirs.getByText('Only owners can reset the environment.').waitFor();
  assert.equal(await theirs.getByRole('button', { name: 'Reset environment' }).count(), 0);
  const refused = await mutate(b.page, 'sandbox.resetEnvironment', { projectId }) as { error?: { data?: { code?: string } } };
  assert.equal(refused.error?.data?.code, 'FORBIDDEN');
});
