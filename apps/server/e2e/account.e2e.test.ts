// Account attacks in a real browser (issue 12 items 2 and 6): `?next=` cannot send a fresh
// sign-in to another origin, and signing out in one tab ends the session's other tabs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { newUser, openFile, screenshot, signUp, useServerAndBrowser } from './harness.ts';

const e2e = useServerAndBrowser();

test('after sign-up or sign-in, ?next= only leads to a path on this site', async () => {
  const origin = new URL(e2e.server.url).origin;
  const a = await newUser(e2e.browser, e2e.server.url);
  await signUp(a.page, 'Eve', 'eve@example.com', '//evil.example/phish');
  await a.page.waitForURL(/\/projects$/);
  assert.equal(new URL(a.page.url()).origin, origin);
  for (const next of ['/\\evil.example/phish', '//evil.example/phish', 'https://evil.example/']) {
    const b = await newUser(e2e.browser, e2e.server.url);
    await b.page.goto(`/signin?next=${encodeURIComponent(next)}`);
    await b.page.getByLabel('Email').fill('eve@example.com');
    await b.page.getByLabel('Password').fill('tandem-test-password');
    await b.page.getByRole('button', { name: 'Sign in' }).click();
    await b.page.waitForURL(/\/projects$/);
    assert.equal(new URL(b.page.url()).origin, origin, next);
    await b.context.close();
  }
  // A same-site path is still honoured.
  const c = await newUser(e2e.browser, e2e.server.url);
  await c.page.goto(`/signin?next=${encodeURIComponent('/settings')}`);
  await c.page.getByLabel('Email').fill('eve@example.com');
  await c.page.getByLabel('Password').fill('tandem-test-password');
  await c.page.getByRole('button', { name: 'Sign in' }).click();
  await c.page.waitForURL(/\/settings$/);
});

test('signing out in one tab ends the editor in the session\'s other tabs', async () => {
  const a = await newUser(e2e.browser, e2e.server.url);
  await signUp(a.page, 'Tabby', 'tabby@example.com');
  await a.page.waitForURL(/\/projects$/);
  await a.page.getByPlaceholder('New project name').fill('Tabs');
  await a.page.getByLabel('Template').selectOption('node');
  await a.page.getByRole('button', { name: 'Create project' }).click();
  await a.page.waitForURL(/\/projects\/[\w-]+$/, { timeout: 30_000 });
  const projectUrl = a.page.url();
  await openFile(a.page, 'src/index.js');
  const other = await a.context.newPage();
  other.setDefaultTimeout(30_000);
  await other.goto(projectUrl);
  await openFile(other, 'src/index.js');
  await a.page.goto('/settings'); // the account pages have the top bar with "Sign out"
  await a.page.getByRole('button', { name: 'Sign out' }).click();
  await a.page.waitForURL(/\/signin/, { timeout: 30_000 });
  const banner = other.getByTestId('session-ended');
  await banner.waitFor({ timeout: 30_000 });
  await other.getByRole('link', { name: 'Sign in' }).waitFor();
  await screenshot(other, 'account-signed-out-elsewhere');
});
