/**
 * The HTML report as a person sees it: `report` output of a realistic sweep (test/report-fixture.ts)
 * rendered in headless Chromium (Debian's `chromium`, driven by playwright-core; no browser is
 * downloaded) at a desktop and a narrow window. Checked: the results table, the cost table and the
 * accuracy-vs-cost scatter, every plot and the failed-runs table are visible (non-empty boxes,
 * inside the page's width or inside a container that scrolls), cost cells without a recorded
 * estimate say so (never 0), the cost caveats are shown, the scatter's points are labelled, the
 * page itself never scrolls sideways, the console has no errors, and the page
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
const FLAGS = [
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

function why(): string | false {
  try {
    import.meta.resolve('playwright-core');
  } catch {
    return 'playwright-core is not installed (a devDependency: npm ci)';
  }
  if (existsSync(CHROMIUM)) return false;
  const aptGet = spawnSync('sh', ['-c', 'command -v apt-get'], { encoding: 'utf8' }).status === 0;
  if (!aptGet)
    return (
      `${CHROMIUM} not found and apt-get is not available to install it (Debian: apt-get install chromium; or ` +
      `set CHROMIUM_PATH)`
    );
  return (
    `${CHROMIUM} not found: install it with apt-get install -y chromium (.ci/run does, as root or with ` +
    `passwordless sudo), or set CHROMIUM_PATH`
  );
}
const skip = why();

/** What one view of a page shows: boxes of the elements a reader needs, and what overflows. */
interface Seen {
  viewport: number;
  pageScrollWidth: number;
  boxes: {
    what: string;
    width: number;
    height: number;
    left: number;
    right: number;
    scroller: string | null;
    scrollerRight: number | null;
  }[];
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
    ...[...document.querySelectorAll('table.cost')].map((e, i) => ({ what: 'cost table ' + i, e })),
    ...[...document.querySelectorAll('figure.cost svg')].map((e, i) => ({ what: 'cost scatter ' + i, e })),
    ...[...document.querySelectorAll('figure:not(.cost) svg')].map((e, i) => ({ what: 'plot ' + i, e })),
    ...[...document.querySelectorAll('table.failed')].map((e, i) => ({ what: 'failed runs table ' + i, e })),
  ].map(({ what, e }) => {
    const r = e.getBoundingClientRect();
    const s = scrollerOf(e);
    const sr = s ? s.getBoundingClientRect() : null;
    return { what, width: r.width, height: r.height, left: r.left + window.scrollX, right: r.right + window.scrollX,
      scroller: s ? s.tagName.toLowerCase() + '.' + s.className : null,
      scrollerRight: sr ? sr.right + window.scrollX : null };
  });
  return { viewport: window.innerWidth, pageScrollWidth: document.documentElement.scrollWidth, boxes };
})()`;

test(
  'report in headless Chromium: table, plots and failed runs visible, no console error, no request',
  { skip, timeout: 180_000 },
  async (t) => {
    const started = Date.now();
    const out = mkdtempSync(join(tmpdir(), 'aimc-report-browser-'));
    t.diagnostic(`screenshots and reports in ${out}`);
    const dbFile = join(out, 'results.db');
    buildReportFixture(dbFile);
    const reports: {
      name: string;
      file: string;
      plots: number;
      failed: number;
      costRows: number;
      scatterPoints: number;
    }[] = [];
    const db = openStoreReadonly(dbFile);
    try {
      for (const sweep of [CLASSIFICATION_SWEEP, LEAST_SQUARES_SWEEP]) {
        const r = buildSweepReport(db, sweep, { db: 'results.db' });
        const file = join(out, `${sweep}.html`);
        writeFileSync(file, r.html);
        const scatterPoints = r.cost.figure
          ? r.cost.figure.panels.reduce((n, p) => n + p.series.reduce((m, s) => m + s.points.length, 0), 0)
          : 0;
        reports.push({
          name: sweep,
          file,
          plots: r.plots.length,
          failed: r.failed,
          costRows: r.cost.rows.length,
          scatterPoints,
        });
      }
    } finally {
      db.close();
    }
    for (const f of [dbFile, `${dbFile}-wal`, `${dbFile}-shm`]) rmSync(f, { force: true });
    t.diagnostic(`fixture and reports built in ${Date.now() - started} ms`);

    const { chromium } = await import('playwright-core');
    const profile = mkdtempSync(join(tmpdir(), 'aimc-chromium-profile-'));
    const context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      args: FLAGS,
      timeout: 30_000,
      viewport: { width: 1366, height: 900 },
    });
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
          check(
            seen.boxes.filter((b) => b.what.startsWith('results table')).length === 1,
            `${where}: one results table`,
          );
          check(seen.boxes.filter((b) => b.what.startsWith('plot')).length === report.plots, `${where}: every plot`);
          check(
            seen.boxes.filter((b) => b.what.startsWith('failed')).length === (report.failed ? 1 : 0),
            `${where}: the failed runs`,
          );
          check(seen.boxes.filter((b) => b.what.startsWith('cost table')).length === 1, `${where}: one cost table`);
          check(
            seen.boxes.filter((b) => b.what.startsWith('cost scatter')).length === (report.scatterPoints ? 1 : 0),
            `${where}: the cost scatter when a cell records update_ns`,
          );
          // the cost table as a reader sees it: a row per cell, no estimate shown as 0 where it is missing, the caveats
          const cost = (await page.evaluate(`(() => {
          const t = document.querySelector('table.cost');
          const heads = [...t.querySelectorAll('thead th')].map((e) => e.textContent);
          const rows = [...t.querySelectorAll('tbody tr')].map((tr) => [...tr.children].map((e) => e.textContent));
          const note = document.querySelector('p.cost-caveats');
          const r = note ? note.getBoundingClientRect() : null;
          const points = document.querySelectorAll('figure.cost svg circle.point').length;
          const tags = [...document.querySelectorAll('figure.cost svg text.tag')].map((e) => e.textContent);
          const caveatsBox = r ? [r.width, r.height] : [0, 0];
          return { heads, rows, caveats: note ? note.textContent : '', caveatsBox, points, tags };
        })()`)) as {
            heads: string[];
            rows: string[][];
            caveats: string;
            caveatsBox: number[];
            points: number;
            tags: string[];
          };
          check(
            cost.rows.length === report.costRows,
            `${where}: the cost table has a row per cell (${cost.rows.length} of ${report.costRows})`,
          );
          const costCols = ['update_ns (ns)', 'energy_nj (nJ)', 'storage_bytes (bytes)'].map((h) =>
            cost.heads.indexOf(h),
          );
          check(
            costCols.every((i) => i >= 0),
            `${where}: the cost table has the three estimates' columns (${cost.heads.join(' | ')})`,
          );
          for (const row of cost.rows) {
            for (const i of costCols)
              check(row[i] !== '0' && row[i] !== '', `${where}: a cost cell is empty or 0 (${row.join(' | ')})`);
            if (!report.scatterPoints)
              for (const i of costCols)
                check(row[i].startsWith('without value'), `${where}: results without estimates say so (${row[i]})`);
          }
          check(
            /flop_pj is 0/.test(cost.caveats) && cost.caveatsBox[0] > 100 && cost.caveatsBox[1] > 10,
            `${where}: the cost caveats are shown`,
          );
          check(
            cost.points === report.scatterPoints,
            `${where}: the scatter has a point per cell with update_ns (${cost.points} of ${report.scatterPoints})`,
          );
          if (report.scatterPoints)
            check(
              cost.tags.length > 0 && cost.tags.every((t) => t.length > 0),
              `${where}: the scatter's points are labelled (${cost.tags.length} labels)`,
            );
          for (const b of seen.boxes) {
            check(b.width > 50 && b.height > 30, `${where}: ${b.what} has a visible box (${b.width} x ${b.height})`);
            check(b.left >= 0, `${where}: ${b.what} starts inside the page (${b.left})`);
            const inside = b.right <= seen.viewport + 0.5;
            const scrolls = b.scroller !== null && b.scrollerRight !== null && b.scrollerRight <= seen.viewport + 0.5;
            check(
              inside || scrolls,
              `${where}: ${b.what} (right edge ${b.right}) is neither inside the page width ${seen.viewport} ` +
                `nor in a scrolling container (${b.scroller})`,
            );
          }
          check(
            seen.pageScrollWidth <= seen.viewport,
            `${where}: the page does not scroll sideways (${seen.pageScrollWidth} > ${seen.viewport})`,
          );
          // the failed runs' errors are readable: no error cell wider than the page
          const errorWidths = (await page.evaluate(
            `[...document.querySelectorAll('table.failed pre.error')].map((e) => e.getBoundingClientRect().right)`,
          )) as number[];
          for (const r of errorWidths)
            check(r <= seen.viewport + 0.5, `${where}: an error text runs off the page (${r})`);
          const shot = join(out, `${report.name}-${width}.png`);
          await page.screenshot({ path: shot, fullPage: true });
          // each plot on its own, at its natural size, for a closer look
          if (width === 1366) {
            const dir = join(out, `${report.name}-plots`);
            mkdirSync(dir, { recursive: true });
            const svgs = await page.$$('figure:not(.cost) svg');
            for (const [i, s] of svgs.entries()) await s.screenshot({ path: join(dir, `plot-${i}.png`) });
            const costTable = await page.$('table.cost');
            if (costTable) await costTable.screenshot({ path: join(dir, 'cost-table.png') });
            const scatter = await page.$('figure.cost svg');
            if (scatter) await scatter.screenshot({ path: join(dir, 'cost-scatter.png') });
          }
          for (const e of errors) problems.push(`${where}: ${e}`);
          for (const r of requests)
            problems.push(`${where}: a request beyond the report file (it must be self-contained): ${r}`);
          t.diagnostic(`${where}: ${seen.boxes.length} elements visible; screenshot ${shot}`);
        }
      }
      assert.deepEqual(problems, [], `what a reader would see (screenshots in ${out})`);
    } finally {
      await Promise.race([context.close(), new Promise((resolve) => setTimeout(resolve, 10_000).unref())]);
      rmSync(profile, { recursive: true, force: true });
    }
    t.diagnostic(`browser test took ${((Date.now() - started) / 1000).toFixed(1)} s`);
  },
);
