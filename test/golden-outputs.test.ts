/**
 * Golden outputs of the read commands: `table` (md, csv, json), `plot` (SVG), `report` (HTML),
 * `export` and `query`, spawned on a deterministic database (test/report-fixture.ts's two
 * sweeps and a small sweep with a view, the papers' numbers, cost estimates, a failed, a running
 * and a queued run), compared byte for byte with the files in test/golden/. A refactor of
 * src/report must leave every one of them unchanged; a change meant to alter an output
 * regenerates them with `GOLDEN_UPDATE=1 node --import tsx --test test/golden-outputs.test.ts`
 * and shows the difference in review. Times (the report's dates, export's started_at and
 * finished_at) depend on when the fixture is made and are replaced by `<time>`.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { type CliOutput, runCli } from './helpers.ts';
import { buildReportFixture, CLASSIFICATION_SWEEP as CLS, LEAST_SQUARES_SWEEP as LS } from './report-fixture.ts';
import { sweepDefinitionJson } from '../src/coordinator/scheduler.ts';
import type { EpochMetrics, RunResult } from '../src/core/train.ts';
import { openStore } from '../src/store/open.ts';
import { SqliteRunQueue } from '../src/store/run-queue.ts';
import { canonicalJson } from '../src/sweep/canonical.ts';
import { expandSweep } from '../src/sweep/expand.ts';
import { parseSweepText } from '../src/sweep/spec.ts';

const GOLDEN = new URL('./golden/', import.meta.url).pathname;
const UPDATE = process.env.GOLDEN_UPDATE === '1';

const dir = mkdtempSync(join(tmpdir(), 'aimc-golden-'));
const DB = join(dir, 'results.db');

// ---- a small sweep with everything a table can show ------------------------------------------

const REF = `name: ref
description: a view, the papers' numbers, cost estimates; a failed, a running and a queued run
view: { rows: [algorithm, n_tiles], cols: [device.n_states], metric: test_accuracy, stat: mean }
base:
  task: { kind: mnist, train_size: 100, test_size: 50, downsample: true }
  model: { hidden: [8], activation: tanh }
  epochs: 4
grid:
  device.n_states: [4, 16]
  seed: [1, 2, 3]
cases:
  - { algorithm: sgd }
  - { algorithm: analog-sgd }
  - { algorithm: residual, n_tiles: [2, 3] }
  - { algorithm: mp, cost.flop_pj: 1 }
reference:
  - where: { algorithm: analog-sgd, device.n_states: 4 }
    metric: test_accuracy
    mean: 40
    std: 1.5
    source: "Paper A, Table 1"
  - where: { algorithm: residual, device.n_states: 16 }
    metric: test_accuracy
    mean: 75
    std: 1
    source: "Paper B | residual"
  - where: { algorithm: residual, n_tiles: 3, device.n_states: 4 }
    metric: test_accuracy
    mean: 60
    std: 4
    source: "Paper A"
  - { where: { algorithm: mp, seed: 2 }, metric: test_accuracy, mean: 85, source: "Paper C, one seed" }
  - { where: { algorithm: analog-sgd }, metric: update_ns, mean: 6.3, source: "Paper B, Table 5" }
`;
const ACC: Record<string, number> = { sgd: 0.9, 'analog-sgd': 0.42, residual: 0.55, mp: 0.86 };
const NS: Record<string, number> = { sgd: 70, 'analog-sgd': 6.3, residual: 9, mp: 72 };

function recordRef(): void {
  const db = openStore(DB);
  try {
    const q = new SqliteRunQueue(db);
    const spec = parseSweepText(REF, 'sweeps/ref.yaml');
    const { runs } = expandSweep(spec);
    const id = q.recordSweep(
      {
        name: spec.name,
        description: spec.description,
        specJson: sweepDefinitionJson(spec),
        source: spec.file,
        runs: runs.map((r) => ({
          hash: r.hash,
          configJson: canonicalJson(r.config),
          numericsVersion: 1,
          assignmentsJson: canonicalJson(r.assignments),
        })),
      },
      Date.now(),
    ).sweepId;
    // all but the last run leased: it stays queued; the one before it stays running
    const leases = q.lease('w1', runs.length - 1, Date.now(), 3_600_000, id);
    leases.forEach((lease, i) => {
      if (i === leases.length - 1) return;
      type Conf = { algorithm: string; seed: number; n_tiles?: number; device?: { n_states: number } };
      const c = JSON.parse(lease.configJson) as Conf;
      if (c.algorithm === 'analog-sgd' && c.seed === 3 && c.device?.n_states === 16) {
        assert.equal(q.fail('w1', lease, 'training diverged at epoch 2: loss is NaN', Date.now()).accepted, true);
        return;
      }
      const n = c.device?.n_states ?? 64;
      const top = ACC[c.algorithm] + 0.01 * n ** 0.5 + 0.013 * (c.seed - 2) ** 2 + 0.02 * (c.n_tiles ?? 0);
      const history: EpochMetrics[] = [];
      for (let e = 0; e <= 4; e++) {
        const acc = 0.1 + (top - 0.1) * (1 - Math.exp(-e)) - (e === 3 ? 0.004 * c.seed : 0);
        const cost =
          e === 0
            ? {}
            : {
                update_ns: NS[c.algorithm] * (1 + 0.01 / e + 0.001 * c.seed),
                energy_nj: c.algorithm === 'sgd' ? 0 : 0.25 * c.seed,
                storage_bytes: 270,
              };
        const loss = { train_loss: 2.3 * (1 - acc), test_loss: 2.4 * (1 - acc) };
        history.push({ epoch: e, ...loss, test_accuracy: acc, train_accuracy: acc + 0.01, ...cost, pulses: {} });
      }
      const result: RunResult = {
        numerics_version: 1,
        config: c as never,
        history,
        final: history[4],
        weights_digest: 'd',
        wall_ms: 7 + c.seed,
      };
      assert.equal(q.complete('w1', lease, result, Date.now()).accepted, true);
    });
  } finally {
    db.close();
  }
}

buildReportFixture(DB);
recordRef();

// ---- the cases -------------------------------------------------------------------------------

interface Case {
  /** the golden file's name (its extension says what it holds) */
  file: string;
  args: string[];
  /** the command writes this file (under the temp folder) instead of standard output */
  out?: string;
}

const db = ['--db', DB];
const table = (sweep: string, ...args: string[]) => ['table', '--sweep', sweep, ...args, ...db];
const plot = (sweep: string, ...args: string[]) => ['plot', '--sweep', sweep, ...args, ...db];
const CASES: Case[] = [
  { file: 'table-cls.md', args: table(CLS) },
  { file: 'table-cls.csv', args: table(CLS, '--format', 'csv') },
  { file: 'table-cls-best-median.md', args: table(CLS, '--epoch', 'best', '--stat', 'median') },
  { file: 'table-cls-mixed.md', args: table(CLS, '--rows', 'algorithm', '--cols', 'device.n_states') },
  { file: 'table-cls-update-ns.csv', args: table(CLS, '--metric', 'update_ns', '--format', 'csv') },
  { file: 'table-ls.md', args: table(LS) },
  { file: 'table-ls-tail.csv', args: table(LS, '--metric', 'step_weight_error', '--epoch', 'tail', '--format=csv') },
  { file: 'table-ls-best.json', args: table(LS, '--epoch', 'best', '--stat', 'median', '--format', 'json') },
  { file: 'table-ref.md', args: table('ref') },
  { file: 'table-ref.csv', args: table('ref', '--format', 'csv') },
  { file: 'table-ref.json', args: table('ref', '--format', 'json') },
  { file: 'table-ref-cols-seed.md', args: table('ref', '--rows', 'algorithm', '--cols', 'seed') },
  { file: 'table-ref-update-ns.md', args: table('ref', '--metric', 'update_ns', '--epoch', 'best') },
  { file: 'table-ls-no-accuracy.txt', args: table(LS, '--metric', 'test_accuracy') },
  { file: 'table-overlap.txt', args: table('ref', '--rows', 'device', '--cols', 'device.n_states') },
  { file: 'table-wall-tail.txt', args: table('ref', '--metric', 'wall_ms', '--epoch', 'tail') },
  { file: 'plot-cls-states.svg', args: plot(CLS, '--x', 'device.n_states', '--epoch', 'best') },
  { file: 'plot-ls.svg', args: plot(LS) },
  { file: 'plot-ls-tiles.svg', args: plot(LS, '--x', 'n_tiles', '--epoch', 'tail', '--stat', 'median') },
  { file: 'plot-ref-states.svg', args: plot('ref', '--x', 'device.n_states', '--group', 'algorithm') },
  { file: 'plot-x-algorithm.txt', args: plot('ref', '--x', 'algorithm') },
  { file: 'report-ref.html', args: ['report', '--sweep', 'ref', ...db], out: 'ref.html' },
  { file: 'report-ls.html', args: ['report', '--sweep', LS, ...db], out: 'ls.html' },
  { file: 'export-ref.csv', args: ['export', '--sweep', 'ref', ...db] },
  { file: 'query.txt', args: ['query', 'SELECT name, source FROM sweeps ORDER BY id', ...db] },
];

const TIME = /\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{3})?Z/g;

/**
 * What a case produced: its output (standard output or the file it wrote), then its exit code and
 * standard error when not plain.
 */
function produced(c: Case, r: CliOutput): string {
  const body = c.out ? readFileSync(join(dir, c.out), 'utf8') : r.stdout;
  const plain = r.code === 0 && r.stderr === '' && !c.out;
  const stdout = c.out ? r.stdout : '(above)';
  const tail = plain ? '' : `\n---- exit ${r.code}; stdout: ${stdout}\n---- stderr:\n${r.stderr}`;
  return (body + tail).replace(TIME, '<time>').replaceAll(dir, '<tmp>');
}

/** The commands, four at a time (each is a process of its own). */
const results = new Map<string, Promise<CliOutput>>();
{
  let chain: Promise<unknown>[] = [Promise.resolve(), Promise.resolve(), Promise.resolve(), Promise.resolve()];
  CASES.forEach((c, i) => {
    const slot = i % chain.length;
    const run = chain[slot].then(() => runCli(...c.args, ...(c.out ? ['--out', join(dir, c.out)] : [])));
    chain = chain.map((p, j) => (j === slot ? run.catch(() => undefined) : p));
    results.set(c.file, run);
  });
}

for (const c of CASES) {
  test(`golden: ${c.args.slice(0, 3).join(' ')} ... -> test/golden/${c.file}`, async () => {
    const text = produced(c, await (results.get(c.file) as Promise<CliOutput>));
    const file = join(GOLDEN, c.file);
    if (UPDATE) {
      mkdirSync(GOLDEN, { recursive: true });
      writeFileSync(file, text);
      return;
    }
    const same = text === readFileSync(file, 'utf8');
    assert.ok(same, `${c.file}: differs from the golden file (GOLDEN_UPDATE=1 rewrites it)`);
  });
}
