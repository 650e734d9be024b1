/**
 * E2E harness: runs the real server as a child process (the built web app, an embedded database
 * in a temp dir, port 0) and drives Debian's Chromium through playwright-core.
 */
import { after, afterEach, before } from 'node:test';
import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { removeDirWithMounts } from '../src/testing/removeDirWithMounts.ts';

export const ARTIFACTS = resolve(import.meta.dirname, '../../../test-artifacts');
const SERVER_DIR = resolve(import.meta.dirname, '..');

// When a test fails, every page still open is screenshotted and the end of each server's log is
// printed, so a failure in CI can be understood from its log and artifacts alone.
const openPages = new Set<Page>();
const servers = new Set<RunningServer>();
afterEach(async (t) => {
  if ((t as { passed?: boolean }).passed !== false) return;
  const name = t.name.replace(/\W+/g, '-').slice(0, 40);
  let i = 0;
  for (const page of openPages) {
    const path = await screenshot(page, `failed-${name}-${++i}`).catch(() => null);
    if (path) console.error(`[e2e] ${page.url()} at the failure: ${path}`);
  }
  for (const server of servers) console.error(`[e2e] end of the server log (${server.url}):\n${server.log().slice(-3000)}`);
});

export interface RunningServer {
  url: string;
  dataDir: string;
  proc: ChildProcess;
  log: () => string;
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

export async function startServerProcess(env: Record<string, string> = {}, dataDir = mkdtempSync(join(tmpdir(), 'tandem-e2e-'))): Promise<RunningServer> {
  // Sandbox working copies live in <dataDir>/sandboxes and must be reachable by the sandbox uid
  // (mkdtemp makes the directory 0700). Traverse-only; nothing in it becomes listable.
  chmodSync(dataDir, 0o711);
  const proc = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    cwd: SERVER_DIR,
    env: { ...process.env, PORT: '0', HOST: '127.0.0.1', TANDEM_DATA_DIR: dataDir, NODE_ENV: 'production', TANDEM_SIGNUPS_PER_IP_PER_HOUR: '10000', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  proc.stdout!.on('data', (d) => (out += d));
  proc.stderr!.on('data', (d) => (out += d));
  const url = await new Promise<string>((res, rej) => {
    const timer = setTimeout(() => rej(new Error(`server did not start in 60 s:\n${out}`)), 60_000);
    const check = () => {
      const m = /running at (http:\/\/\S+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        res(m[1]!);
      }
    };
    proc.stdout!.on('data', check);
    proc.once('exit', (code) => rej(new Error(`server exited with ${code}:\n${out}`)));
  });
  const running: RunningServer = {
    url,
    dataDir,
    proc,
    log: () => out,
    stop: (signal = 'SIGTERM') =>
      new Promise((res) => {
        if (proc.exitCode !== null) return res(proc.exitCode);
        proc.once('exit', (code) => res(code));
        proc.kill(signal);
      }),
  };
  servers.add(running);
  proc.once('exit', () => servers.delete(running));
  return running;
}

/** A tRPC call made by the page itself (its cookie, its origin), as the IDE makes it. */
export async function trpc<T>(page: Page, kind: 'query' | 'mutation', path: string, input: unknown): Promise<T> {
  return page.evaluate(async ({ kind, path, input }) => {
    const res = kind === 'query'
      ? await fetch(`/api/trpc/${path}?input=${encodeURIComponent(JSON.stringify(input))}`)
      : await fetch(`/api/trpc/${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(input) });
    const body = await res.json();
    if (!res.ok) throw new Error(JSON.stringify(body));
    return body.result.data;
  }, { kind, path, input }) as Promise<T>;
}

export function removeDir(dir: string): void {
  removeDirWithMounts(dir);
}

/**
 * A test file's server process (started with `env`, or what `env()` resolves to, e.g. once a test
 * double listens) and browser: started before its tests, stopped (and the server's data removed)
 * after them. Read them from the returned object.
 */
export function useServerAndBrowser(env: Record<string, string> | (() => Promise<Record<string, string>>) = {}): { readonly server: RunningServer; readonly browser: Browser } {
  const e2e = {} as { server: RunningServer; browser: Browser };
  before(async () => {
    e2e.server = await startServerProcess(typeof env === 'function' ? await env() : env);
    e2e.browser = await launchBrowser();
  });
  after(async () => {
    await e2e.browser?.close();
    await e2e.server?.stop();
    if (e2e.server) removeDir(e2e.server.dataDir);
  });
  return e2e;
}

export async function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}

export async function newUser(browser: Browser, baseURL: string): Promise<{ context: BrowserContext; page: Page }> {
  const context = await browser.newContext({ baseURL, viewport: { width: 1400, height: 860 } });
  const page = await context.newPage();
  page.setDefaultTimeout(15_000);
  openPages.add(page);
  page.once('close', () => openPages.delete(page));
  return { context, page };
}

export async function screenshot(page: Page, name: string): Promise<string> {
  mkdirSync(ARTIFACTS, { recursive: true });
  const path = join(ARTIFACTS, `${name}.png`);
  await page.screenshot({ path });
  return path;
}

export async function signUp(page: Page, name: string, email: string, next?: string): Promise<void> {
  await page.goto(next ? `/signup?next=${encodeURIComponent(next)}` : '/signup');
  await page.getByLabel('Name').fill(name);
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill('tandem-test-password');
  await page.getByRole('button', { name: 'Sign up' }).click();
}

/** The active file's text, read through the IDE's test hook (Monaco renders spaces as U+00A0). */
export const editorValue = (page: Page): Promise<string> => page.evaluate(() => window.__tandem?.getValue() ?? '');

/** Polls `check` until it holds; fails naming `what` after `timeoutMs`. */
export async function waitFor(what: string, check: () => Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** Opens `path` from the file tree and waits for its tab to be active. */
export async function openFile(page: Page, path: string): Promise<void> {
  await page.locator(`[data-testid=tree-item][data-path="${path}"]`).click();
  await page.locator(`[data-testid=tab][data-path="${path}"][aria-selected=true]`).waitFor();
}

/**
 * `owner` (signed in, a member of the project at `projectUrl`) creates an invite link over the
 * API; `page` signs up as `name` through it, joins, and lands in the project.
 */
export async function inviteAndJoin(owner: Page, projectUrl: string, role: 'editor' | 'viewer', page: Page, name: string, email: string): Promise<void> {
  const projectId = projectUrl.split('/').pop()!;
  const invite = await owner.evaluate(async ({ projectId, role }) => {
    const r = await fetch('/api/trpc/invites.create', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ projectId, role }) });
    return ((await r.json()) as { result: { data: { url: string } } }).result.data.url;
  }, { projectId, role });
  await signUp(page, name, email, new URL(invite).pathname);
  await page.getByRole('button', { name: 'Join project' }).click();
  await page.waitForURL(projectUrl);
}
