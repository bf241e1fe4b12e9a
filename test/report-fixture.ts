/**
 * A results database that looks like a real one, for tests that look at the report as a reader
 * does (test/report-browser.test.ts): synthetic, deterministic results recorded through SqliteRunQueue
 * (no training).
 *
 * - `states-by-algorithm`: a classification sweep (test_accuracy, linear y): `sgd` (no device)
 *   and 7 analog algorithms x `device.n_states` 4, 16, 64, 256 x the long boolean key
 *   `device.subtract_symmetric_point` x seeds 1-3, 400 epochs of noisy learning curves; 3 runs
 *   failed (one with a long, multi-line error), so the table is wide (8 data columns with long
 *   headers) and the plots have 8 lines. Every epoch records the cost estimates (update_ns,
 *   energy_nj, storage_bytes, at the magnitudes docs/cost.md measures on the quickstart); the
 *   `mp` runs set a non-default cost constant (`cost.flop_pj: 1`).
 * - `residual-long`: least squares (weight_error on a log y axis): `analog-sgd` and `residual`
 *   with `n_tiles` 1 to 6 x `device.n_states` 4, 16 x seeds 1-3, 1,000 epochs whose error
 *   falls by three decades with multiplicative noise; seed spreads larger than the mean (bands
 *   that would reach 0), one failed run. No cost estimates: results recorded before they existed.
 */
import assert from 'node:assert/strict';
import type { EpochMetrics, RunResult } from '../src/core/train.ts';
import { openStore } from '../src/store/open.ts';
import { SqliteRunQueue } from '../src/store/run-queue.ts';
import { canonicalJson, runHash } from '../src/sweep/canonical.ts';

/** mulberry32: a small deterministic generator for the synthetic noise. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A standard normal from two uniforms (Box-Muller). */
const normal = (u: () => number) => Math.sqrt(-2 * Math.log(1 - u())) * Math.cos(2 * Math.PI * u());

const hashText = (s: string) => [...s].reduce((h, c) => (Math.imul(h, 31) + c.charCodeAt(0)) >>> 0, 7);

export const CLASSIFICATION_SWEEP = 'states-by-algorithm';
export const LEAST_SQUARES_SWEEP = 'residual-long';
export const LONG_KEY = 'device.subtract_symmetric_point';
export const ALGORITHMS = ['sgd', 'analog-sgd', 'tiki-taka', 'ttv2', 'c-ttv2', 'agad', 'mp', 'residual'];
export const STATES = [4, 16, 64, 256];
export const LONG_ERROR =
  'training diverged at epoch 37: loss is NaN\n' +
  '  at fc1/W: |w| > w_max after a transfer of 1.3e+4 pulses (transfer_every 2, fast_lr 0.5, 256 columns)\n' +
  '  the last finite train_loss was 2.3026 at epoch 36; weights_digest 0000000000000000; ' +
  'a very long line without spaces follows: ' +
  'fc1/W/transfer/column/255/pulses/'.repeat(8);

function get(config: Record<string, unknown>, key: string): unknown {
  return key.split('.').reduce<unknown>((o, p) => (o as Record<string, unknown> | undefined)?.[p], config);
}

interface SweepDef {
  name: string;
  description: string;
  source: string;
  swept: string[];
  configs: Record<string, unknown>[];
  spec: unknown;
}

function record(q: SqliteRunQueue, s: SweepDef, now: number): number {
  const runs = s.configs.map((config) => ({
    hash: runHash(config as never),
    configJson: canonicalJson(config),
    numericsVersion: 1,
    assignmentsJson: canonicalJson(
      Object.fromEntries(s.swept.flatMap((k) => (get(config, k) === undefined ? [] : [[k, get(config, k)]]))),
    ),
  }));
  return q.recordSweep(
    { name: s.name, description: s.description, specJson: canonicalJson(s.spec), source: s.source, runs },
    now - 3_600_000,
  ).sweepId;
}

/** Writes both sweeps into a new database at `file`. */
export function buildReportFixture(file: string): void {
  const db = openStore(file);
  try {
    const q = new SqliteRunQueue(db);
    const now = Date.now();
    const complete = (lease: { hash: string; attempt: number }, history: EpochMetrics[]) => {
      const r: RunResult = {
        numerics_version: 1,
        config: {} as never,
        history,
        final: history[history.length - 1],
        weights_digest: 'd0c1a2b3e4f50617',
        wall_ms: 40 + history.length,
      };
      assert.equal(q.complete('vm:4242', lease, r, now - 60_000).accepted, true);
    };

    // ---- states-by-algorithm ----
    const EPOCHS = 400;
    const configs: Record<string, unknown>[] = [];
    for (const algorithm of ALGORITHMS) {
      for (const n_states of algorithm === 'sgd' ? [0] : STATES) {
        for (const ssp of algorithm === 'sgd' ? [null] : [false, true]) {
          for (const seed of [1, 2, 3]) {
            const c: Record<string, unknown> = {
              algorithm,
              seed,
              epochs: EPOCHS,
              lr: 0.1,
              task: { kind: 'mnist', train_size: 2000 },
              model: { hidden: [32] },
            };
            if (algorithm !== 'sgd') c.device = { kind: 'softbounds', n_states, subtract_symmetric_point: ssp };
            if (algorithm === 'residual') c.n_tiles = 3;
            if (algorithm === 'mp') c.cost = { flop_pj: 1 };
            configs.push(c);
          }
        }
      }
    }
    const sid = record(
      q,
      {
        name: CLASSIFICATION_SWEEP,
        description:
          'Every algorithm family at 4 to 256 conductance states, with and without programming the reference ' +
          'at the symmetric point (zero shifting), 3 seeds, 400 epochs of down-sampled MNIST. Synthetic ' +
          'results for the report tests.',
        source: 'sweeps/states-by-algorithm.yaml',
        swept: ['algorithm', 'device.n_states', LONG_KEY, 'seed', 'n_tiles'],
        configs,
        spec: {
          base: { epochs: EPOCHS, lr: 0.1 },
          grid: { 'device.n_states': STATES, [LONG_KEY]: [false, true], seed: [1, 2, 3] },
          cases: ALGORITHMS.map((a) => ({ algorithm: a })),
        },
      },
      now,
    );
    const ceiling: Record<string, number> = {
      sgd: 0.93,
      'analog-sgd': 0.55,
      'tiki-taka': 0.8,
      ttv2: 0.84,
      'c-ttv2': 0.87,
      agad: 0.86,
      mp: 0.91,
      residual: 0.83,
    };
    /** update_ns, energy_nj, storage_bytes of each algorithm (docs/cost.md, the quickstart's; mp with flop_pj 1) */
    const COST: Record<string, [number, number, number]> = {
      sgd: [71.86, 0, 6862],
      'analog-sgd': [6.303, 0.245, 270],
      'tiki-taka': [10.69, 0.262, 270],
      ttv2: [10.53, 0.258, 6862],
      'c-ttv2': [10.61, 0.259, 6862],
      agad: [12.4, 0.27, 20314],
      mp: [72.34, 12.83, 6862],
      residual: [8.907, 0.75, 270],
    };
    for (const lease of q.lease('vm:4242', 10_000, now - 120_000, 3_600_000, sid)) {
      const c = JSON.parse(lease.configJson) as {
        algorithm: string;
        seed: number;
        device?: { n_states: number; subtract_symmetric_point: boolean };
      };
      const n = c.device?.n_states ?? 4096;
      const ssp = c.device?.subtract_symmetric_point ?? false;
      if (
        (c.algorithm === 'ttv2' && n === 4 && c.seed === 3 && !ssp) ||
        (c.algorithm === 'analog-sgd' && n === 256 && c.seed === 1 && ssp)
      ) {
        assert.equal(
          q.fail(
            'vm:4242',
            lease,
            c.algorithm === 'ttv2' ? LONG_ERROR : 'training diverged at epoch 2: loss is NaN',
            now - 60_000,
          ).accepted,
          true,
        );
        continue;
      }
      if (c.algorithm === 'agad' && n === 16 && c.seed === 2 && ssp) {
        assert.equal(
          q.fail('vm:4242', lease, 'worker vm:4242 lost (lease expired 3 times)', now - 60_000).accepted,
          true,
        );
        continue;
      }
      const u = rng(hashText(lease.hash));
      const top = ceiling[c.algorithm] * (1 - 0.35 / Math.sqrt(n)) + (ssp ? 0.01 : 0) + 0.01 * normal(u);
      const tau = 20 + 40 * u();
      const history: EpochMetrics[] = [];
      for (let e = 0; e <= EPOCHS; e++) {
        const clean = 0.1 + (top - 0.1) * (1 - Math.exp(-e / tau));
        const acc = Math.min(0.995, Math.max(0.02, clean + (e === 0 ? 0 : 0.02 * normal(u))));
        const loss = 2.3 * (1 - acc) + 0.05 * u();
        const [ns, nj, bytes] = COST[c.algorithm];
        // running means over the training so far: settle within a few epochs, a little spread over seeds
        const settle = e === 0 ? 0 : 1 + 0.3 / e + 0.01 * (u() - 0.5);
        const cost =
          e === 0 ? { storage_bytes: bytes } : { update_ns: ns * settle, energy_nj: nj * settle, storage_bytes: bytes };
        history.push({
          epoch: e,
          train_loss: loss,
          test_loss: loss * 1.05,
          train_accuracy: Math.min(1, acc + 0.01),
          test_accuracy: acc,
          ...cost,
          pulses: {},
        });
      }
      complete(lease, history);
    }

    // ---- residual-long ----
    const LS_EPOCHS = 1000;
    const ls: Record<string, unknown>[] = [];
    for (const n_states of [4, 16]) {
      for (const tiles of [0, 1, 2, 3, 4, 6]) {
        for (const seed of [1, 2, 3]) {
          const c: Record<string, unknown> = {
            algorithm: tiles === 0 ? 'analog-sgd' : 'residual',
            seed,
            epochs: LS_EPOCHS,
            task: { kind: 'least-squares', in_size: 1, out_size: 1 },
            device: { kind: 'constant-step', n_states },
          };
          if (tiles) c.n_tiles = tiles;
          ls.push(c);
        }
      }
    }
    const lid = record(
      q,
      {
        name: LEAST_SQUARES_SWEEP,
        description:
          'Multi-tile residual learning on the scalar toy: 1 to 6 tiles against analog SGD at 4 and 16 states, ' +
          '1,000 epochs, 3 seeds. Synthetic.',
        source: 'sweeps/residual-long.yaml',
        swept: ['algorithm', 'n_tiles', 'device.n_states', 'seed'],
        configs: ls,
        spec: {
          grid: { 'device.n_states': [4, 16], seed: [1, 2, 3] },
          cases: [{ algorithm: 'analog-sgd' }, { algorithm: 'residual', n_tiles: [1, 2, 3, 4, 6] }],
        },
      },
      now,
    );
    for (const lease of q.lease('vm:4242', 10_000, now - 120_000, 3_600_000, lid)) {
      const c = JSON.parse(lease.configJson) as {
        algorithm: string;
        seed: number;
        n_tiles?: number;
        device: { n_states: number };
      };
      if (c.n_tiles === 6 && c.device.n_states === 4 && c.seed === 3) {
        assert.equal(
          q.fail('vm:4242', lease, 'training diverged at epoch 812: weight_error is Infinity', now - 60_000).accepted,
          true,
        );
        continue;
      }
      const u = rng(hashText(lease.hash));
      const floor =
        ((c.n_tiles ? 0.18 / c.n_tiles ** 1.6 : 0.3) / Math.sqrt(c.device.n_states / 4)) * Math.exp(0.8 * normal(u));
      const history: EpochMetrics[] = [];
      for (let e = 0; e <= LS_EPOCHS; e++) {
        const clean = floor + 1.5 * Math.exp(-e / 60);
        const noisy = clean * Math.exp(e === 0 ? 0 : 0.5 * normal(u));
        history.push({
          epoch: e,
          train_loss: noisy / 2,
          weight_error: noisy,
          ...(e === 0 ? {} : { step_loss: clean / 2, step_weight_error: clean * Math.exp(0.1 * normal(u)) }),
          pulses: {},
        });
      }
      complete(lease, history);
    }
  } finally {
    db.close();
  }
}
