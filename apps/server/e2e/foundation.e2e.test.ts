import { test } from 'node:test';
import assert from 'node:assert/strict';
import { newUser, screenshot, signUp, useServerAndBrowser } from './harness.ts';

const e2e = useServerAndBrowser();

test('sign up, create a project from a template, invite a second user who joins as editor', async () => {
  const a = await newUser(e2e.browser, e2e.server.url);
  await a.page.goto('/');
  await a.page.waitForURL(/\/signin/);
  await a.page.getByRole('heading', { name: 'Sign in' }).waitFor();
  await screenshot(a.page, 'foundation-01-signin');
  await signUp(a.page, 'Ada Lovelace', 'ada@example.com');
  await a.page.waitForURL(/\/projects$/);
  await a.page.getByPlaceholder('New project name').fill('Analytical Engine');
  await a.page.getByLabel('Template').selectOption('node');
  await a.page.getByRole('button', { name: 'Create project' }).click();
  await a.page.waitForURL(/\/projects\/[\w-]+$/);
  const projectUrl = a.page.url();

  await a.page.goto(projectUrl + '/settings');
  await a.page.getByRole('button', { name: 'Create invite link' }).click();
  const link = (await a.page.getByTestId('invite-link').textContent())!.trim();
  assert.match(link, /\/invite\/[\w-]+$/);
  await screenshot(a.page, 'foundation-02-invite');

  const b = await newUser(e2e.browser, e2e.server.url);
  await b.page.goto(link);
  await b.page.waitForURL(/\/signin\?next=/);
  await b.page.getByRole('link', { name: 'Create an account' }).click();
  await b.page.getByLabel('Name').fill('Charles Babbage');
  await b.page.getByLabel('Email').fill('charles@example.com');
  await b.page.getByLabel('Password').fill('tandem-test-password');
  await b.page.getByRole('button', { name: 'Sign up' }).click();
  await b.page.getByRole('button', { name: 'Join project' }).waitFor();
  assert.match(await b.page.locator('main').textContent() ?? '', /Join “Analytical Engine”.*editor/s);
  await screenshot(b.page, 'foundation-03-join');
  await b.page.getByRole('button', { name: 'Join project' }).click();
  await b.page.waitForURL(projectUrl);

  await b.page.goto('/projects');
  await b.page.getByTestId('project-card').first().waitFor();
  const cards = await b.page.getByTestId('project-card').allTextContents();
  assert.equal(cards.length, 1);
  assert.match(cards[0]!, /Analytical Engine.*editor.*2 members/);
  await screenshot(b.page, 'foundation-04-dashboard-b');

  await a.page.reload();
  await a.page.getByTestId('member-row').nth(1).waitFor();
  const rows = await a.page.getByTestId('member-row').allTextContents();
  assert.ok(rows.some((r) => r.includes('Charles Babbage')), rows.join('|'));
  assert.equal(await a.page.getByLabel('Role of Charles Babbage').inputValue(), 'editor');
  await screenshot(a.page, 'foundation-05-members');
  await a.context.close();
  await b.context.close();
});

test('wrong password shows a clear error and signs nobody in', async () => {
  const c = await newUser(e2e.browser, e2e.server.url);
  await c.page.goto('/signin');
  await c.page.getByLabel('Email').fill('ada@example.com');
  await c.page.getByLabel('Password').fill('wrong-password');
  await c.page.getByRole('button', { name: 'Sign in' }).click();
  const error = c.page.locator('form [role=alert]');
  await error.waitFor();
  assert.equal(await error.textContent(), 'Wrong email or password.');
  assert.match(c.page.url(), /\/signin/);
  const cookies = await c.context.cookies();
  assert.equal(cookies.filter((x) => x.name === 'tandem_session').length, 0);
  await c.context.close();
});
