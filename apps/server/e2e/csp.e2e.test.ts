// Item 10: a strict Content-Security-Policy (per-response script nonces, no framing) under which
// the whole IDE works: sign-up, project list, the IDE with Monaco and its web workers, live sync
// over the WebSocket, the markdown preview. Real server process, real Chromium; every CSP
// violation event and "Refused to …" console message is collected and must stay empty.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { editorValue, newUser, openFile, screenshot, signUp, useServerAndBrowser, waitFor } from './harness.ts';

const e2e = useServerAndBrowser();

declare global {
  interface Window {
    __cspViolations?: string[];
    __injected?: number;
  }
}

test('every page carries a nonce-based CSP with frame-ancestors none, and the IDE runs under it with nothing blocked', async () => {
  const res = await fetch(`${e2e.server.url}/signin`);
  const policy = res.headers.get('content-security-policy') ?? '';
  assert.match(policy, /script-src 'self' 'nonce-[A-Za-z0-9+/=]{16,}' 'strict-dynamic'/);
  assert.match(policy, /frame-ancestors 'none'/);
  const html = await res.text();
  const nonce = /'nonce-([^']+)'/.exec(policy)![1]!;
  assert.ok(html.includes(`nonce="${nonce}"`), "Next puts the response's nonce on its scripts");
  const second = (await fetch(`${e2e.server.url}/signin`)).headers.get('content-security-policy');
  assert.notEqual(second, policy, 'a fresh nonce per response');

  const { context, page } = await newUser(e2e.browser, e2e.server.url);
  await context.addInitScript(() => {
    window.__cspViolations = [];
    document.addEventListener('securitypolicyviolation', (e) => {
      window.__cspViolations!.push(`${e.violatedDirective} ${e.blockedURI} ${e.sourceFile}:${e.lineNumber}`);
    });
  });
  const refused: string[] = [];
  page.on('console', (m) => {
    if (/Content Security Policy|Refused to/i.test(m.text())) refused.push(m.text());
  });
  const workers: string[] = [];
  page.on('worker', (w) => workers.push(w.url()));
  const violations = async () => [...((await page.evaluate(() => window.__cspViolations ?? [])) as string[]), ...refused];

  await signUp(page, 'Ada Lovelace', 'ada-csp@example.com');
  await page.waitForURL(/\/projects$/);
  await page.getByPlaceholder('New project name').fill('Engine');
  await page.getByLabel('Template').selectOption('node');
  await page.getByRole('button', { name: 'Create project' }).click();
  await page.waitForURL(/\/projects\/[\w-]+$/);
  await page.locator('[data-testid=tab][aria-selected=true]').waitFor();
  await page.getByTestId('markdown-preview').locator('h1').first().waitFor();

  await openFile(page, 'src/index.js');
  await page.locator('.monaco-editor .view-lines').click();
  await page.keyboard.press('Control+End');
  await page.keyboard.type('\nconst underCsp = 1;\n');
  await waitFor('the edit in the editor', async () => (await editorValue(page)).includes('const underCsp = 1;'));
  // The edit went through the sync WebSocket: a second tab sees it.
  const other = await context.newPage();
  await other.goto(page.url());
  await openFile(other, 'src/index.js');
  await waitFor('the edit in a second tab', async () => (await editorValue(other)).includes('const underCsp = 1;'), 20_000);
  await other.close();
  await waitFor('Monaco to start a web worker', async () => workers.length > 0, 20_000);
  await screenshot(page, 'csp-ide');

  assert.deepEqual(await violations(), [], 'nothing was blocked');
  console.log(`[csp] workers started under the policy: ${workers.map((w) => new URL(w).pathname).join(', ')}`);

  // The policy is enforced: injected markup cannot run script (the XSS vector: an inline event
  // handler; 'strict-dynamic' trusts only what already-trusted scripts create), and it is reported.
  const ran = await page.evaluate(() => {
    const div = document.createElement('div');
    div.setAttribute('onclick', 'window.__injected = 1');
    document.body.append(div);
    div.click();
    div.remove();
    return window.__injected === 1;
  });
  assert.equal(ran, false, 'an injected inline event handler is blocked');
  await waitFor('the violation to be reported', async () => (await violations()).length > 0);
  await context.close();
});
