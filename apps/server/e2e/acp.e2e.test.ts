import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { Browser, Page } from 'playwright-core';
import { fixtureAgent } from '@tandem/api/testing/acp';
import { launchBrowser, newUser, removeDir, screenshot, signUp, startServerProcess, type RunningServer, waitFor as waitForDefault, inviteAndJoin } from './harness.ts';

/**
 * An external agent over ACP in two real browsers: the owner enables the scripted ACP agent in
 * the project settings, picks it in the Agent panel and starts a run; the agent process runs in
 * the project's sandbox; both people watch its thoughts, plan and tool calls stream; Bea denies
 * the command it asks to run; the group accepts one of its two files and rejects the other; the
 * AI activity page shows the run's steps and the tokens the agent reported.
 */
let server: RunningServer;
let browser: Browser;
let fixture: ReturnType<typeof fixtureAgent>;

before(async () => {
  fixture = fixtureAgent();
  server = await startServerProcess({ TANDEM_ACP_AGENTS: JSON.stringify([fixture.config]) });
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await server?.stop();
  if (server) removeDir(server.dataDir);
  fixture?.dispose();
});

const waitFor = (what: string, check: () => Promise<boolean>, timeoutMs = 30_000) => waitForDefault(what, check, timeoutMs);
const panelText = async (page: Page) => (await page.getByTestId('agent-panel').textContent()) ?? '';

test('two people watch an external agent, one denies its command, the group accepts part of its changeset', async () => {
  const errors: string[] = [];
  const a = await newUser(browser, server.url);
  const b = await newUser(browser, server.url);
  a.page.on('pageerror', (e) => errors.push(`A: ${e.message}`));
  b.page.on('pageerror', (e) => errors.push(`B: ${e.message}`));
  await a.page.setViewportSize({ width: 1440, height: 900 });
  await b.page.setViewportSize({ width: 800, height: 900 });
  await signUp(a.page, 'Ada Lovelace', 'ada@example.com');
  await a.page.waitForURL(/\/projects$/);
  await a.page.getByPlaceholder('New project name').fill('Engine');
  await a.page.getByLabel('Template').selectOption('node');
  await a.page.getByRole('button', { name: 'Create project' }).click();
  await a.page.waitForURL(/\/projects\/[\w-]+$/);
  const projectUrl = a.page.url();
  await inviteAndJoin(a.page, projectUrl, 'editor', b.page, 'Bea Bell', 'bea@example.com');

  // The owner enables the external agent in the project settings.
  await a.page.goto(`${projectUrl}/settings`);
  await a.page.getByTestId('external-agents-settings').scrollIntoViewIfNeeded();
  await a.page.getByTestId('external-agent-fixture').click();
  await waitFor('saved', async () => /Saved/.test((await a.page.getByTestId('external-agents-settings').textContent()) ?? ''));
  await screenshot(a.page, 'acp-01-settings-A-1440');
  await a.page.goto(projectUrl);

  for (const u of [a, b]) await u.page.getByTestId('toggle-agent').click();
  for (const u of [a, b]) await u.page.getByTestId('agent-panel').waitFor();
  await a.page.getByTestId('agent-engine').selectOption('fixture');
  await a.page.getByTestId('agent-task').fill('Add multiply to math.js.');
  await a.page.getByTestId('agent-start').click();

  // Both watch it: thought, plan, tool calls, then the permission prompt.
  for (const u of [a, b]) {
    await u.page.getByTestId('agent-thought').waitFor({ timeout: 60_000 });
    await u.page.getByTestId('agent-plan').waitFor();
    await u.page.getByTestId('agent-deny').waitFor({ timeout: 60_000 });
  }
  assert.match(await panelText(b.page), /Fixture agent \(external agent\)/);
  assert.match(await panelText(b.page), /The agent asks permission for cat src\/new\.js && echo ran-in-sandbox/);
  await Promise.all([screenshot(a.page, 'acp-02-permission-A-1440'), screenshot(b.page, 'acp-03-permission-B-800')]);
  await b.page.getByTestId('agent-deny').click();
  for (const u of [a, b]) await waitFor('the agent to carry on after the denial', async () => /Permission denied; skipping the command\./.test(await panelText(u.page)));
  await waitFor('ready for review', async () => /ready for review/.test((await b.page.getByTestId('agent-run').first().textContent()) ?? ''), 60_000);
  assert.match(await panelText(a.page), /Denied by Bea Bell/);
  await waitFor('the tokens it reported', async () => /4 steps · 2,000 tokens/.test(await panelText(b.page)));

  // The group reviews: A accepts the new file, B rejects the other.
  const file = (page: Page, path: string) => page.locator(`[data-testid=agent-file][data-path="${path}"]`);
  await waitFor('two files in the changeset', async () => (await a.page.getByTestId('agent-file').count()) === 2);
  await a.page.getByTestId('agent-changeset').scrollIntoViewIfNeeded();
  await screenshot(a.page, 'acp-04-review-A-1440');
  await file(a.page, 'src/new.js').getByTestId('agent-accept-file').click();
  await waitFor('new.js accepted', async () => /accepted/.test((await file(b.page, 'src/new.js').textContent()) ?? ''));
  await file(b.page, 'src/math.js').getByTestId('agent-reject-file').click();
  await waitFor('applied', async () => /applied/.test((await a.page.getByTestId('agent-run').first().textContent()) ?? ''));
  await waitFor('new.js in B’s tree', async () => (await b.page.getByTestId('tree-item').allTextContents()).join('|').includes('new.js'));
  assert.ok(!(await b.page.getByTestId('tree-item').allTextContents()).join('|').includes('math.js'), 'the rejected file was never created');
  await Promise.all([screenshot(a.page, 'acp-05-applied-A-1440'), screenshot(b.page, 'acp-06-applied-B-800')]);

  // The AI activity page records the run like a built-in one: steps and the tokens the agent reported, per turn with TTFT.
  for (const u of [a, b]) {
    await u.page.goto(`${projectUrl}/activity`);
    const entry = u.page.getByTestId('agent-activity-entry').first();
    await entry.waitFor();
    assert.match((await entry.textContent()) ?? '', /started an agent run with ?Fixture agent \(external agent\).*4 steps · 2,000 tokens/s);
    await entry.locator('summary', { hasText: 'Full record' }).click();
    const turn = entry.getByTestId('agent-activity-turns').locator('tbody tr').first();
    await turn.waitFor();
    assert.match((await turn.textContent()) ?? '', /^1\s*4\s*300\s*\d+ ms/);
  }
  await Promise.all([screenshot(a.page, 'acp-07-activity-A-1440'), screenshot(b.page, 'acp-08-activity-B-800')]);
  assert.deepEqual(errors, []);
});
