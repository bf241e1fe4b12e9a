/**
 * The HTML report as a person sees it: `report` output of a realistic sweep (test/report-fixture.ts)
 * rendered in headless Chromium (Debian's `chromium`, driven by playwright-core; no browser is
 * downloaded) at a desktop and a narrow window. Checked: the results table, every plot and the
 * failed-runs table are visible (non-empty boxes, inside the page's width or inside a container
 * that scrolls), the page itself never scrolls sideways, the console has no errors, and the page
 * makes no request but the report file itself (every request is intercepted: it must be
 * self-contained). Full-page screenshots are written under a temp folder whose path is printed.
 *
 * Chromium runs with --headless --no-sandbox (playwright's headless mode adds both) and the
 * flags below, on a fresh --user-data-dir (a new temp profile, removed afterwards); every step
 * has a timeout and the browser is closed in `finally`. Without Chromium the test skips with
 * the reason (.ci/run installs it with apt-get; CHROMIUM_PATH names another binary); where
 * apt-get is missing too it says so.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { test } from 'node:test';
import { buildSweepReport } from '../src/report/html.ts';
import { openStoreReadonly } from '../src/store/open.ts';
import { buildReportFixture, CLASSIFICATION_SWEEP, LEAST_SQUARES_SWEEP } from './report-fixture.ts';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const FLAGS = ['--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

function why(): string | false {
  try {
    import.meta.resolve('playwright-core');
  } catch {
    return 'playwright-core is not installed (a devDependency: npm ci)';
  }
  if (existsSync(CHROMIUM)) return false;
  const aptGet = spawnSync('sh', ['-c', 'command -v apt-get'], { encoding: 'utf8' }).status === 0;
  if (!aptGet) return `${CHROMIUM} not found and apt-get is not available to install it (Debian: apt-get install chromium; or set CHROMIUM_PATH)`;
  return `${CHROMIUM} not found: install it with apt-get install -y chromium (.ci/run does, as root or with passwordless sudo), or set CHROMIUM_PATH`;
}
const skip = why();

/** What one view of a page shows: boxes of the elements a reader needs, and what overflows. */
interface Seen {
  viewport: number;
  pageScrollWidth: number;
  boxes: { what: string; width: number; height: number; left: number; right: number; scroller: string | null; scrollerRight: number | null }[];
}

/**
 * Runs in the page (a string: tsx would wrap a function's inner functions in helpers the page
 * does not have): the boxes of the results table, every plot and the failed-runs table, each
 * with the nearest ancestor that scrolls sideways.
 */
const MEASURE = `(() => {
  const scrollerOf = (el) => {
    for (let p = el.parentElement; p; p = p.parentElement) {
      const o = getComputedStyle(p).overflowX;
      if (o === 'auto' || o === 'scroll') return p;
    }
    return null;
  };
  const boxes = [
    ...[...document.querySelectorAll('table.pivot')].map((e, i) => ({ what: 'results table ' + i, e })),
    ...[...document.querySelectorAll('figure svg')].map((e, i) => ({ what: 'plot ' + i, e })),
    ...[...document.querySelectorAll('table.failed')].map((e, i) => ({ what: 'failed runs table ' + i, e })),
  ].map(({ what, e }) => {
    const r = e.getBoundingClientRect();
    const s = scrollerOf(e);
    const sr = s ? s.getBoundingClientRect() : null;
    return { what, width: r.width, height: r.height, left: r.left + window.scrollX, right: r.right + window.scrollX,
      scroller: s ? s.tagName.toLowerCase() + '.' + s.className : null, scrollerRight: sr ? sr.right + window.scrollX : null };
  });
  return { viewport: window.innerWidth, pageScrollWidth: document.documentElement.scrollWidth, boxes };
})()`;

test('report in headless Chromium: table, plots and failed runs visible, no console error, no request', { skip, timeout: 180_000 }, async (t) => {
  const started = Date.now();
  const out = mkdtempSync(join(tmpdir(), 'aimc-report-browser-'));
  t.diagnostic(`screenshots and reports in ${out}`);
  const dbFile = join(out, 'results.db');
  buildReportFixture(dbFile);
  const reports: { name: string; file: string; plots: number; failed: number }[] = [];
  const db = openStoreReadonly(dbFile);
  try {
    for (const sweep of [CLASSIFICATION_SWEEP, LEAST_SQUARES_SWEEP]) {
      const r = buildSweepReport(db, sweep, { db: 'results.db' });
      const file = join(out, `${sweep}.html`);
      writeFileSync(file, r.html);
      reports.push({ name: sweep, file, plots: r.plots.length, failed: r.failed });
    }
  } finally {
    db.close();
  }
  for (const f of [dbFile, `${dbFile}-wal`, `${dbFile}-shm`]) rmSync(f, { force: true });
  t.diagnostic(`fixture and reports built in ${Date.now() - started} ms`);

  const { chromium } = await import('playwright-core');
  const profile = mkdtempSync(join(tmpdir(), 'aimc-chromium-profile-'));
  const context = await chromium.launchPersistentContext(profile, { executablePath: CHROMIUM, headless: true, args: FLAGS, timeout: 30_000, viewport: { width: 1366, height: 900 } });
  try {
    context.setDefaultTimeout(15_000);
    const page = context.pages()[0] ?? (await context.newPage());
    const errors: string[] = [];
    const requests: string[] = [];
    page.on('console', (m) => {
      if (m.type() === 'error' || m.type() === 'warning') errors.push(`console.${m.type()}: ${m.text()}`);
    });
    page.on('pageerror', (e) => errors.push(`page error: ${e.message}`));
    // every problem of every view, reported together after all screenshots are taken
    const problems: string[] = [];
    const check = (ok: boolean, what: string) => {
      if (!ok) problems.push(what);
    };
    let allowed = '';
    // every request goes through here: only the report file itself may be fetched
    await context.route('**/*', (route) => {
      const url = route.request().url();
      if (url === allowed) return route.continue();
      requests.push(url);
      return route.abort('blockedbyclient');
    });
    page.on('request', (r) => {
      if (r.url() !== allowed && !requests.includes(r.url())) requests.push(r.url());
    });

    for (const report of reports) {
      for (const width of [1366, 760]) {
        errors.length = 0;
        requests.length = 0;
        allowed = pathToFileURL(report.file).href;
        await page.setViewportSize({ width, height: 900 });
        await page.goto(allowed, { waitUntil: 'load' });
        const seen = (await page.evaluate(MEASURE)) as Seen;
        const where = `${report.name} at ${width} px`;
        check(seen.boxes.filter((b) => b.what.startsWith('results table')).length === 1, `${where}: one results table`);
        check(seen.boxes.filter((b) => b.what.startsWith('plot')).length === report.plots, `${where}: every plot`);
        check(seen.boxes.filter((b) => b.what.startsWith('failed')).length === (report.failed ? 1 : 0), `${where}: the failed runs`);
        for (const b of seen.boxes) {
          check(b.width > 50 && b.height > 30, `${where}: ${b.what} has a visible box (${b.width} x ${b.height})`);
          check(b.left >= 0, `${where}: ${b.what} starts inside the page (${b.left})`);
          const inside = b.right <= seen.viewport + 0.5;
          const scrolls = b.scroller !== null && b.scrollerRight !== null && b.scrollerRight <= seen.viewport + 0.5;
          check(inside || scrolls, `${where}: ${b.what} (right edge ${b.right}) is neither inside the page width ${seen.viewport} nor in a scrolling container (${b.scroller})`);
        }
        check(seen.pageScrollWidth <= seen.viewport, `${where}: the page does not scroll sideways (${seen.pageScrollWidth} > ${seen.viewport})`);
        // the failed runs' errors are readable: no error cell wider than the page
        const errorWidths = (await page.evaluate(`[...document.querySelectorAll('table.failed pre.error')].map((e) => e.getBoundingClientRect().right)`)) as number[];
        for (const r of errorWidths) check(r <= seen.viewport + 0.5, `${where}: an error text runs off the page (${r})`);
        const shot = join(out, `${report.name}-${width}.png`);
        await page.screenshot({ path: shot, fullPage: true });
        // each plot on its own, at its natural size, for a closer look
        if (width === 1366) {
          const dir = join(out, `${report.name}-plots`);
          mkdirSync(dir, { recursive: true });
          const svgs = await page.$$('figure svg');
          for (const [i, s] of svgs.entries()) await s.screenshot({ path: join(dir, `plot-${i}.png`) });
        }
        for (const e of errors) problems.push(`${where}: ${e}`);
        for (const r of requests) problems.push(`${where}: a request beyond the report file (it must be self-contained): ${r}`);
        t.diagnostic(`${where}: ${seen.boxes.length} elements visible; screenshot ${shot}`);
      }
    }
    assert.deepEqual(problems, [], `what a reader would see (screenshots in ${out})`);
  } finally {
    await Promise.race([context.close(), new Promise((resolve) => setTimeout(resolve, 10_000).unref())]);
    rmSync(profile, { recursive: true, force: true });
  }
  t.diagnostic(`browser test took ${((Date.now() - started) / 1000).toFixed(1)} s`);
});
