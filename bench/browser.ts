/**
 * Browser benchmark: the shipped server (`apps/server` with the web app, default embedded store)
 * and headless Chromium (playwright-core, /usr/bin/chromium), two users on one project, on loopback.
 * - navigation → editable synced editor: page.goto(project) until the file tree shows, then the
 *   click on a file until its editor holds the stored text and is editable;
 * - the IDE route's JavaScript: every script the page loads until then (Monaco's workers
 *   excluded), gzipped here at the default level;
 * - keystroke → rendered in the other page: keydown time in page A (capture listener) to the DOM
 *   mutation in page B's editor after which its text has that keystroke.
 * Needs a production build of the web app (`npm run build -w @tandem/web`).
 * Run: `npm run bench -w @tandem/bench -- browser`.
 */
import { existsSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { resolve } from 'node:path';
import { gzipSync } from 'node:zlib';
import { chromium, type Browser, type Page } from 'playwright-core';
import { TandemNodes, setUpProject } from './load/TandemNodes.ts';
import { printTable } from './sync.ts';

const KEYSTROKES = 80;
const KEYSTROKE_GAP_MS = 60;
const NAVIGATIONS = 5;
const FILE = 'package.json';
const BUDGETS = { keystrokeP50: 25, keystrokeP95: 50, navigationMs: 1500, javascriptKiB: 1024 };

declare global {
  interface Window {
    __tandem?: { getValue(): string; activeFile(): string | null; readOnly(): boolean };
    __bench?: { keys: number[]; renders: { length: number; at: number }[] };
  }
}

export async function runBrowserBenchmark(): Promise<void> {
  if (!existsSync(resolve(import.meta.dirname, '../apps/web/.next/BUILD_ID'))) {
    console.log('\n# Browser benchmark: SKIPPED, no production build of the web app (npm run build -w @tandem/web)');
    return;
  }
  const loadBefore = loadavg()[0]!;
  const nodes = await TandemNodes.startEmbedded(null, { web: true });
  let browser: Browser | null = null;
  try {
    const base = nodes.nodes[0]!.url;
    const { projectId, cookies } = await setUpProject(base, 2, 'node');
    browser = await chromium.launch({
      executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
      args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
    const pages: Page[] = [];
    for (const cookie of cookies) {
      const [name, value] = cookie.split('=') as [string, string];
      const context = await browser.newContext({ viewport: { width: 1440, height: 900 } });
      await context.addCookies([{ name, value, url: base }]);
      const page = await context.newPage();
      page.setDefaultTimeout(60_000);
      pages.push(page);
    }
    const [a, b] = pages as [Page, Page];
    const projectUrl = `${base}/projects/${projectId}`;

    // Navigation, repeated on page A (the first one also warms the server's route caches).
    const navigations: { treeMs: number; editorMs: number; javascript: number; scripts: number }[] = [];
    for (let i = 0; i <= NAVIGATIONS; i++) {
      const scripts = new Map<string, Promise<Buffer | null>>();
      const onResponse = (response: import('playwright-core').Response) => {
        if (response.request().resourceType() !== 'script' || /worker/i.test(response.url())) return;
        scripts.set(response.url(), response.body().catch(() => null));
      };
      a.on('response', onResponse);
      await a.goto('about:blank');
      const started = Date.now();
      await a.goto(projectUrl);
      await a.locator(`[data-testid=tree-item][data-path="${FILE}"]`).waitFor();
      const treeMs = Date.now() - started;
      await a.locator(`[data-testid=tree-item][data-path="${FILE}"]`).click();
      await a.waitForFunction(() => {
        const hook = window.__tandem;
        return !!hook && hook.activeFile() !== null && !hook.readOnly() && hook.getValue().includes('hello-tandem');
      }, undefined, { polling: 'raf' });
      const editorMs = Date.now() - started;
      a.off('response', onResponse);
      let javascript = 0;
      for (const body of await Promise.all(scripts.values())) if (body) javascript += gzipSync(body).length;
      if (i > 0) navigations.push({ treeMs, editorMs, javascript, scripts: scripts.size });
    }

    // Keystrokes: both pages on the file, A types at the end of the first line, B watches.
    await b.goto(projectUrl);
    await b.locator(`[data-testid=tree-item][data-path="${FILE}"]`).click();
    await b.waitForFunction(() => window.__tandem?.getValue().includes('hello-tandem') === true);
    const baseLength = await b.evaluate(() => window.__tandem!.getValue().length);
    await b.evaluate(() => {
      const bench = (window.__bench = { keys: [], renders: [] as { length: number; at: number }[] });
      let last = window.__tandem!.getValue().length;
      new MutationObserver(() => {
        const length = window.__tandem!.getValue().length;
        if (length !== last) bench.renders.push({ length: (last = length), at: performance.timeOrigin + performance.now() });
      }).observe(document.querySelector('.monaco-editor .view-lines')!, { subtree: true, childList: true, characterData: true });
    });
    await a.locator('.monaco-editor .view-lines').click();
    await a.keyboard.press('Control+Home');
    await a.keyboard.press('End');
    // Installed after the navigation keys: one keydown per measured keystroke.
    await a.evaluate(() => {
      const bench = (window.__bench = { keys: [] as number[], renders: [] });
      window.addEventListener('keydown', () => bench.keys.push(performance.timeOrigin + performance.now()), { capture: true });
    });
    for (let i = 0; i < KEYSTROKES; i++) {
      await a.keyboard.press('x');
      await new Promise((r) => setTimeout(r, KEYSTROKE_GAP_MS));
    }
    await b.waitForFunction((n) => window.__tandem!.getValue().length >= n, baseLength + KEYSTROKES);
    const keys = await a.evaluate(() => window.__bench!.keys);
    if (keys.length !== KEYSTROKES) throw new Error(`${keys.length} keydown events for ${KEYSTROKES} keystrokes`);
    const renders = await b.evaluate(() => window.__bench!.renders);
    const latencies = keys.map((at, i) => {
      const render = renders.find((r) => r.length >= baseLength + i + 1);
      return render ? render.at - at : Number.NaN;
    });

    const median = (values: number[]) => quantile(values, 0.5);
    const nav = (pick: (n: (typeof navigations)[number]) => number) => median(navigations.map(pick));
    const ok = (value: number, budget: number) => (value <= budget ? 'within' : 'OVER');
    const rows = [
      ['keystroke → rendered in the other page, p50', `${quantile(latencies, 0.5).toFixed(1)} ms`, `${BUDGETS.keystrokeP50} ms`, ok(quantile(latencies, 0.5), BUDGETS.keystrokeP50)],
      ['keystroke → rendered in the other page, p95', `${quantile(latencies, 0.95).toFixed(1)} ms`, `${BUDGETS.keystrokeP95} ms`, ok(quantile(latencies, 0.95), BUDGETS.keystrokeP95)],
      ['navigation → file tree shown (median)', `${nav((n) => n.treeMs)} ms`, '-', '-'],
      ['navigation → editable synced editor, incl. opening a file (median)', `${nav((n) => n.editorMs)} ms`, `${BUDGETS.navigationMs} ms`, ok(nav((n) => n.editorMs), BUDGETS.navigationMs)],
      ['IDE route JavaScript before Monaco workers (gzipped)', `${(nav((n) => n.javascript) / 1024).toFixed(0)} KiB in ${nav((n) => n.scripts)} scripts`, `${BUDGETS.javascriptKiB} KiB`, ok(nav((n) => n.javascript) / 1024, BUDGETS.javascriptKiB)],
    ];
    printTable(
      `Browser (headless Chromium, two users, loopback; ${KEYSTROKES} keystrokes ${KEYSTROKE_GAP_MS} ms apart, ${NAVIGATIONS} navigations after a warm-up)`,
      ['measure', 'value', 'budget', ''],
      rows,
    );
    if (latencies.some((l) => Number.isNaN(l))) console.log('some keystrokes were never seen rendered in the other page');
    console.log(`\nMachine load average (1 min) before/after: ${loadBefore.toFixed(2)} / ${loadavg()[0]!.toFixed(2)} on ${cpus().length} cores.`);
  } finally {
    await browser?.close();
    await nodes.stop();
  }
}

function quantile(values: number[], q: number): number {
  const sorted = values.filter((v) => !Number.isNaN(v)).sort((x, y) => x - y);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? Number.NaN;
}
