/**
 * The hardware cost model (src/cost, docs/cost.md): the papers' analytic tables come out of the
 * same formulas the runs use (the residual paper, Li et al. 2025, Appendix I Tables 5-8; the
 * c-TTv2 paper, Rasch et al. 2024, Table 1), a run's estimates equal the hand computation from
 * its own counters, the `cost` section changes no existing run's hash and the estimates no
 * training number, and the metrics reach the store (old databases migrate or read as NULL).
 */
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import Database from 'better-sqlite3';
import { algorithmFor } from '../src/core/algorithms/index.ts';
import type { TrainableMatrix } from '../src/core/algorithms/types.ts';
import { resolveRunConfig, RUN_SCHEMA, type RunConfig } from '../src/core/config/run-config.ts';
import { resolvedValueAt } from '../src/core/config/resolved-value.ts';
import { ConfigError, parseValueFor } from '../src/core/config/schema.ts';
import type { ModelConfig } from '../src/core/config/task-schema.ts';
import { planNetwork, weightLayers } from '../src/core/models/index.ts';
import { ClassificationTrainer } from '../src/core/tasks/classification.ts';
import { EPOCH_METRICS, isAccuracyMetric } from '../src/core/tasks/run-result.ts';
import { type EpochMetrics, type RunResult, train } from '../src/core/train.ts';
import type { LayerActivity } from '../src/cost/activity.ts';
import { PAPER_INPUTS, type PaperAlgorithm, paperActivity } from '../src/cost/analytic.ts';
import { costConstants, PAPER_COSTS, TABLE8_SYNAPSES } from '../src/cost/constants.ts';
import { estimateCost, layerEnergyParts, layerUpdateNs } from '../src/cost/model.ts';
import { loadDataset } from '../src/data/index.ts';
import { buildSweepPivot } from '../src/report/pivot.ts';
import { exportRows } from '../src/report/export-rows.ts';
import { MIGRATIONS, SCHEMA_VERSION } from '../src/store/migrations.ts';
import { openStore, openStoreReadonly } from '../src/store/open.ts';
import { sweepRuns } from '../src/store/results-read.ts';
import { SqliteRunQueue } from '../src/store/run-queue.ts';
import { canonicalJson, runHash } from '../src/sweep/canonical.ts';

const K = PAPER_COSTS;
/** The papers print one decimal. */
const ns1 = (x: number | undefined): number => Math.round(x! * 10) / 10;
/** Equal up to rounding (the model sums its parts in another order than a hand formula). */
function close(actual: number | undefined, expected: number, message?: string): void {
  assert.ok(
    actual !== undefined && Math.abs(actual - expected) <= 1e-12 * Math.abs(expected),
    `${message ?? ''} ${actual} vs ${expected}`,
  );
}

// ---- the papers' analytic tables --------------------------------------------------------------

test(
  'residual paper Table 5 (D = 512, B = 100, n_s = 2, l_avg = 5): TT-v2 56.3, analog SGD 30.9, MP 3024.5, ours ' +
    '95.9 ns',
  () => {
    const t = (a: PaperAlgorithm) => ns1(layerUpdateNs(paperActivity(a, 512, 512, PAPER_INPUTS), K));
    // TT-v2: (5 + 1/2) 5 + 40/2 + (1024 + 512) / 175 = 27.5 + 20 + 8.78
    assert.equal(t('ttv2'), 56.3);
    // analog SGD: 5 x 5 + 1024 / 175
    assert.equal(t('analog-sgd'), 30.9);
    // MP: (512 / 100) 5 + (2 x 512^2 + 512) / 175 = 25.6 + 2998.9
    assert.equal(t('mp'), 3024.5);
    // ours (infinitely many tiles): 5 x 5 x 2 / 1 + 40 / 1 + 1024 / 175 = 50 + 40 + 5.85
    assert.equal(t('residual'), 95.9);
  },
);

test(
  'c-TTv2 paper Table 1: TT-v2 56.3, c-TTv2 56.3, AGAD 62.1, in-memory SGD 30.9, MP 3024.5 ns; AGAD 17.1 ns at ' +
    'n_s 10, l_max 1',
  () => {
    const t = (a: PaperAlgorithm, inputs = PAPER_INPUTS) => ns1(layerUpdateNs(paperActivity(a, 512, 512, inputs), K));
    assert.deepEqual(
      (['ttv2', 'c-ttv2', 'agad', 'analog-sgd', 'mp'] as const).map((a) => t(a)),
      [56.3, 56.3, 62.1, 30.9, 3024.5],
    );
    // AGAD: 2N + 6N/n_s operations; at n_s 10 and one pulse per update: (1 + 0.1) 5 + 40/10 + 1331.2 / 175
    assert.equal(t('agad', { ...PAPER_INPUTS, n_s: 10, l_avg: 1 }), 17.1);
    // "about 175 times faster than MP"
    assert.equal(Math.round(t('mp') / t('agad', { ...PAPER_INPUTS, n_s: 10, l_avg: 1 })), 177);
  },
);

/** The weight layers of our LeNet-5 on 28x28 MNIST: conv0 16x25, conv1 32x400, fc2 128x512, fc3 10x128. */
function lenetShapes(): [number, number][] {
  const model: ModelConfig = { kind: 'lenet5', activation: 'tanh', digital_layers: [], init_scale: 1 };
  return weightLayers(planNetwork(model, 'ttv2', { channels: 1, height: 28, width: 28 }, 10)).map((l) => [
    l.rows,
    l.cols,
  ]);
}

test(
  'residual paper Table 7, LeNet-5 (slowest layer 128x512): TT-v2 56.3, analog SGD 30.9, ours 95.9 ns; its MP ' +
    '457.4 is not the formula of its Table 5',
  () => {
    assert.deepEqual(lenetShapes(), [
      [16, 25],
      [32, 400],
      [128, 512],
      [10, 128],
    ]);
    // the papers' square formulas with D = the larger side of each layer; mixed precision writes
    // its 8-sample batch (Table 6) row by row
    const inputs = { ...PAPER_INPUTS, B: 8 };
    const net = (a: PaperAlgorithm) => lenetShapes().map(([r, c]) => paperActivity(a, r, c, inputs));
    const slowest = (a: PaperAlgorithm) => {
      const times = net(a).map((l) => layerUpdateNs(l, K)!);
      return { ns: ns1(estimateCost(net(a), 1, K).update_ns), layer: times.indexOf(Math.max(...times)) };
    };
    assert.deepEqual(slowest('ttv2'), { ns: 56.3, layer: 2 });
    assert.deepEqual(slowest('analog-sgd'), { ns: 30.9, layer: 2 });
    assert.deepEqual(slowest('residual'), { ns: 95.9, layer: 2 });
    // Not reproduced: MP. Table 5's count, 2 rows cols + rows operations and rows/B row writes,
    // gives (2 x 128 x 512 + 128) / 175 + (128 / 8) 5 = 749.7 + 80 = 829.7 ns. The paper's 457.4 is
    // one operation per weight plus the input length, (128 x 512 + 512) / 175 + 80 = 377.4 + 80:
    // half of Table 5's 2D^2 + D. We keep Table 5's count (the one that gives its 3024.5).
    assert.deepEqual(slowest('mp'), { ns: 829.7, layer: 2 });
    assert.equal(ns1((128 * 512 + 512) / K.digital_gflops + (128 / 8) * K.pulse_ns), 457.4);
  },
);

test(
  'residual paper Table 7, ResNet-18 (slowest layer 512x4608): TT-v2 126.5, analog SGD 77.7, ours 142.7 ns; MP ' +
    'as for LeNet-5',
  () => {
    const t = (a: PaperAlgorithm) => ns1(layerUpdateNs(paperActivity(a, 512, 4608, { ...PAPER_INPUTS, B: 128 }), K));
    assert.deepEqual([t('ttv2'), t('analog-sgd'), t('residual')], [126.5, 77.7, 142.7]);
    // the paper's 13528.0 = (512 x 4608 + 4608) / 175 + (512 / 128) 5; Table 5's count gives 26986.3
    assert.equal(t('mp'), 26986.3);
    assert.equal(ns1((512 * 4608 + 4608) / K.digital_gflops + (512 / 128) * K.pulse_ns), 13528.0);
  },
);

test(
  'residual paper Table 6, LeNet-5 digital storage: analog SGD 2.13, ours 2.13 KB; TT-v2 80.2 and MP 94.8 are ' +
    'KiB (1024 bytes)',
  () => {
    const bytes = (a: PaperAlgorithm) =>
      estimateCost(
        lenetShapes().map(([r, c]) => paperActivity(a, r, c, { ...PAPER_INPUTS, B: 8 })),
        1,
        K,
      ).storage_bytes;
    // x and d, 2D with D the larger side: 2 (25 + 400 + 512 + 128) = 2130 bytes
    assert.equal(bytes('analog-sgd'), 2130);
    assert.equal(bytes('residual'), 2130);
    // TT-v2 adds its buffer, the 80,016 weights: 82,146 bytes, the paper's 80.2 only in KiB
    assert.equal(bytes('ttv2'), 80016 + 2130);
    assert.equal(Math.round((bytes('ttv2') / 1024) * 10) / 10, 80.2);
    // MP: chi and 8 samples of x and d: 80,016 + 8 x 2130 = 97,056 bytes = 94.8 KiB
    assert.equal(bytes('mp'), 80016 + 8 * 2130);
    assert.equal(Math.round((bytes('mp') / 1024) * 10) / 10, 94.8);
  },
);

test('residual paper Table 8, energy per training image of the 785-250-10 perceptron: ours 12.82 + N x 9.44 nJ', () => {
  const layers = (tiles: number): LayerActivity[] => [
    paperActivity('residual', 250, 785, PAPER_INPUTS, tiles),
    paperActivity('residual', 10, 251, PAPER_INPUTS, tiles),
  ];
  assert.equal(TABLE8_SYNAPSES, 198760);
  const parts = (tiles: number) => {
    const p = layers(tiles).map((l) => layerEnergyParts(l, K));
    const sum = (f: keyof (typeof p)[0]) => p.reduce((s, x) => s + x[f], 0);
    return {
      pulses: sum('pulses'),
      transferReads: sum('transferReads'),
      forward: sum('forward'),
      backward: sum('backward'),
      digital: sum('digital'),
    };
  };
  const one = parts(1);
  // 0.1107 W x 50 ns = 5.535 nJ, printed 5.53; the transfer read 7.29; per tile 7.29 forward + 2.15 backward
  assert.ok(Math.abs(one.pulses - 5.535) < 0.001, `${one.pulses}`);
  assert.equal(one.transferReads.toFixed(2), '7.29');
  assert.equal(one.forward.toFixed(2), '7.29');
  assert.equal(one.backward.toFixed(2), '2.15');
  assert.equal(one.digital, 0);
  // within half a unit of the last printed digit of each printed part (5.53 + 7.29 + N (7.29 + 2.15))
  for (const n of [1, 2, 4, 8]) {
    const e = estimateCost(layers(n), 1, K).energy_nj!;
    assert.ok(Math.abs(e - (12.82 + n * 9.44)) < 0.005 * (2 + 2 * n), `N = ${n}: ${e}`);
  }
  // "ours exceeds MP's 83.2 nJ only when N >= 8"
  assert.ok(estimateCost(layers(7), 1, K).energy_nj! < 83.2 && estimateCost(layers(8), 1, K).energy_nj! > 83.2);
});

// ---- measured counts ----------------------------------------------------------------------------

/** A deterministic stream of values in [-1, 1) for driving layers by hand. */
function values(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 31 - 1;
  };
}

/** Drives a layer through `steps` mini-batches of `batch` random vectors; returns the x and d it saw. */
function drive(
  m: TrainableMatrix,
  steps: number,
  batch: number,
  lr: number,
  seed: number,
): { x: Float32Array; d: Float32Array }[] {
  const next = values(seed);
  const seen: { x: Float32Array; d: Float32Array }[] = [];
  for (let s = 0; s < steps; s++) {
    const x = Float32Array.from({ length: batch * m.cols }, next);
    const d = Float32Array.from({ length: batch * m.rows }, () => 0.3 * next());
    m.update(x, d, batch, lr);
    seen.push({ x, d });
  }
  return seen;
}

const LAYER = { rows: 4, cols: 3, maxBatch: 2, vectorsPerBatch: 2, name: 'layer0' };
const DEVICE = { kind: 'softbounds', n_states: 20 };

test(
  'measured: analog SGD spends min(ceil(lr xmax dmax / dw_min), desired_bl) slots per update, rows + cols ' +
    'operations; the estimate is the hand computation',
  () => {
    const config = resolveRunConfig({
      algorithm: 'analog-sgd',
      device: DEVICE,
      task: { in_size: 3, out_size: 4 },
      batch_size: 2,
    });
    const m = algorithmFor('analog-sgd').create(config, LAYER);
    const lr = 0.5;
    const seen = drive(m, 30, 2, lr, 1);
    const g = config.device!.dw_min;
    let slots = 0;
    for (const { x, d } of seen) {
      for (let b = 0; b < 2; b++) {
        const xmax = Math.max(...Array.from(x.subarray(b * 3, b * 3 + 3), Math.abs));
        const dmax = Math.max(...Array.from(d.subarray(b * 4, b * 4 + 4), Math.abs));
        const k = (lr * xmax * dmax) / g;
        if (k > 0) slots += Math.min(Math.ceil(k), config.update!.desired_bl);
      }
    }
    const c = m.costCounts();
    assert.deepEqual(c, {
      samples: 60,
      arraysRead: 1,
      slots,
      pulses: m.pulseCounts().W,
      reads: 0,
      flops: 60 * (4 + 3),
      storedElements: 4 + 3,
    });
    assert.ok(slots > 60 && c.pulses > 0, `slots ${slots}, pulses ${c.pulses}`);
    const est = estimateCost([{ ...c, rows: 4, cols: 3, backward: false }], 60, K);
    close(est.update_ns, (slots * 5 + (60 * 7) / 175) / 60);
    close(est.energy_nj, (c.pulses * 2.785e-6 + 60 * 12 * 36.68e-6) / 60);
    assert.equal(est.storage_bytes, 7);
  },
);

test(
  "measured: transfer algorithms count a read per transfer, their buffers' operations and the transfers' pulse " +
    'slots',
  () => {
    const cases: [string, Record<string, unknown>, (t: number) => number, number][] = [
      // [algorithm, settings, operations of the transfers, digital elements]
      ['tiki-taka', {}, (t) => t * 4, 7],
      ['ttv2', {}, (t) => t * 4 * 2, 7 + 12],
      ['c-ttv2', {}, (t) => t * 4 * 2, 7 + 12],
      ['agad', {}, (t) => t * 4 * 6, 7 + 3 * 12],
      ['rlv2', {}, (t) => t * 4 * 3, 7 + 12],
      ['residual', { n_tiles: 3, transfer_every: 1, transfer_every_growth: 2 }, (t) => t * 4, 7],
    ];
    for (const [algorithm, settings, transferOps, elements] of cases) {
      const config = resolveRunConfig({
        algorithm,
        device: DEVICE,
        task: { in_size: 3, out_size: 4 },
        batch_size: 2,
        ...settings,
      });
      const m = algorithmFor(algorithm as RunConfig['algorithm']).create(config, LAYER);
      drive(m, 40, 2, 0.2, 2);
      const transfers = Object.values(m.transferCounts()).reduce((a, b) => a + b, 0);
      const pulses = Object.values(m.pulseCounts()).reduce((a, b) => a + b, 0);
      const c = m.costCounts();
      assert.ok(transfers > 0, algorithm);
      assert.equal(c.samples, 80, algorithm);
      assert.equal(c.reads, transfers, `${algorithm}: one column read per transfer`);
      assert.equal(c.pulses, pulses, algorithm);
      // tiki-taka and residual scale each pulsed column write by its read's abs-max (rows)
      assert.equal(c.flops, 80 * (4 + 3) + transferOps(transfers), algorithm);
      assert.equal(c.storedElements, elements, algorithm);
      // forward and backward read the slow array, the fast one too where gamma > 0 (rlv2's default 0.2), every residual
      // tile
      assert.equal(c.arraysRead, algorithm === 'residual' ? 3 : algorithm === 'rlv2' ? 2 : 1, algorithm);
      assert.ok(c.slots > 0, algorithm);
      const est = estimateCost([{ ...c, rows: 4, cols: 3, backward: false }], 80, K);
      close(est.update_ns, (c.slots * 5 + c.reads * 40 + c.flops / 175) / 80, algorithm);
      close(
        est.energy_nj,
        (c.pulses * 2.785e-6 + c.reads * 12 * 36.68e-6 + 80 * c.arraysRead * 12 * 36.68e-6) / 80,
        algorithm,
      );
    }
  },
);

test("measured: a small mixed-precision run's estimates are the hand computation from its own pulse counter", () => {
  // one input column: every row of chi is one element, so its row writes take exactly its pulses in slots
  const config = resolveRunConfig({
    algorithm: 'mp',
    device: { kind: 'softbounds', n_states: 10 },
    task: { kind: 'least-squares', in_size: 1, out_size: 3, n_samples: 20 },
    batch_size: 4,
    lr: 0.2,
    epochs: 4,
  });
  const r = train(config);
  assert.deepEqual(
    [r.history[0].update_ns, r.history[0].energy_nj, r.history[0].storage_bytes],
    [undefined, undefined, 3 + 1 + 3],
    'epoch 0: nothing trained yet; storage is x, d and chi',
  );
  for (const m of r.history.slice(1)) {
    const samples = m.epoch * 20;
    const pulses = m.pulses.W;
    assert.ok(pulses > 0);
    // per sample: chi += lr d x^T, 2 x 3 x 1 + 3 operations; pulses x 5 ns of row writes
    close(m.update_ns, (pulses * 5 + (samples * 9) / 175) / samples, `epoch ${m.epoch}`);
    // a forward read of the 3 weights per sample, no backward pass in least squares
    close(m.energy_nj, (pulses * 2.785e-6 + samples * 3 * 36.68e-6) / samples, `epoch ${m.epoch}`);
    assert.equal(m.storage_bytes, 7);
  }
});

test(
  'measured: a network prices every layer (conv patches, no backward pass in the first layer) and reports its ' +
    'slowest',
  () => {
    for (const [model, algorithm] of [
      [{ kind: 'mlp', hidden: [8] }, 'ttv2'],
      [{ kind: 'lenet5' }, 'residual'],
    ] as const) {
      const lenet = model.kind === 'lenet5';
      const config = resolveRunConfig({
        algorithm,
        task: { kind: 'mnist', train_size: 12, test_size: 4, downsample: !lenet },
        model,
        batch_size: 4,
        lr: 0.1,
        device: DEVICE,
      });
      const data = loadDataset(config.task);
      const trainer = new ClassificationTrainer(config, data);
      const order = Int32Array.from({ length: 12 }, (_, k) => k);
      for (let start = 0; start < 12; start += 4) trainer.step(data.train, order, start, 4, config.lr, { correct: 0 });
      const layers = trainer.net.costActivity();
      const patches = lenet ? [576, 64, 1, 1] : [1, 1];
      assert.deepEqual(
        layers.map((l) => l.samples),
        patches.map((p) => 12 * p),
      );
      assert.deepEqual(
        layers.map((l) => l.backward),
        patches.map((_, i) => i > 0),
      );
      const byHand = layers.map((l) => (l.slots * 5 + l.reads * 40 + l.flops / 175) / l.samples);
      const est = estimateCost(layers, 12, K);
      close(est.update_ns, Math.max(...byHand));
      let energy = 0;
      for (const l of layers) {
        const w = l.rows * l.cols;
        energy +=
          l.pulses * 2.785e-6 +
          (l.reads + l.samples * l.arraysRead) * w * 36.68e-6 +
          (l.backward ? l.samples * l.arraysRead * w * 10.82e-6 : 0);
      }
      close(est.energy_nj, energy / 12);
      assert.equal(
        est.storage_bytes,
        layers.reduce((s, l) => s + l.storedElements, 0),
      );
    }
  },
);

test(
  'a digital layer and digital sgd price their outer products and matrix-vector products; flop_pj puts them in ' +
    'energy',
  () => {
    const config = resolveRunConfig({ algorithm: 'sgd', task: { in_size: 3, out_size: 4 }, batch_size: 2 });
    const m = algorithmFor('sgd').create(config, LAYER);
    drive(m, 5, 2, 0.1, 3);
    const c = m.costCounts();
    assert.deepEqual(c, {
      samples: 10,
      arraysRead: 0,
      slots: 0,
      pulses: 0,
      reads: 0,
      flops: 10 * (2 * 12 + 4),
      storedElements: 12 + 7,
    });
    const a = { ...c, rows: 4, cols: 3, backward: true };
    close(estimateCost([a], 10, K).update_ns, 28 / 175);
    assert.equal(estimateCost([a], 10, K).energy_nj, 0);
    // 1 pJ per operation: the updates' 280 and forward and backward, 2 x 10 x 24
    close(estimateCost([a], 10, costConstants({ flop_pj: 1 })).energy_nj, ((280 + 480) * 1e-3) / 10);
  },
);

// ---- the config section, hashes and bit-identity --------------------------------------------------

test(
  'the cost section: defaults left out of the canonical config (hashes of existing runs unchanged), overrides ' +
    'validated and kept',
  () => {
    // hashes of these configs at the commit before the cost section (HEAD f988bf7)
    const before: [Record<string, unknown>, string][] = [
      [
        {
          algorithm: 'ttv2',
          task: { kind: 'least-squares', in_size: 6, out_size: 4 },
          device: { kind: 'softbounds', n_states: 20 },
        },
        '7cb5bbaa8427d9ae2e76a2b14f752f445946ed73cae85dfe17e8cb246c11157e',
      ],
      [
        {
          algorithm: 'residual',
          n_tiles: 4,
          seed: 2,
          task: { kind: 'mnist', downsample: true, train_size: 2000, test_size: 1000 },
          model: { kind: 'mlp', hidden: [32] },
          device: { preset: 'reram-sb' },
        },
        '133457004d0bd557e8d3fa83fe53c443b6f0595f3635877b85891e6765bf0356',
      ],
      [
        {
          algorithm: 'mp',
          task: { kind: 'mnist', source: 'full' },
          model: { kind: 'lenet5' },
          device: { kind: 'softbounds', n_states: 10 },
          update: { closed_form_pulses: false },
        },
        'f3db90ede48b9e546ae6c2ea10c8c6d896257a0d49b6aff5b05f4d65f715689e',
      ],
      [
        { algorithm: 'sgd', task: { kind: 'fashion-mnist' }, model: { kind: 'mlp', hidden: [256, 128] }, lr: 0.1 },
        '8664a3a88af728dd90996c57830709435bd299dcf0bf011bca132d97f3e44430',
      ],
    ];
    for (const [input, hash] of before) {
      const c = resolveRunConfig(input);
      assert.equal('cost' in c, false);
      assert.equal(runHash(c), hash);
      // the defaults given explicitly are the same run
      assert.equal(runHash(resolveRunConfig({ ...input, cost: { ...PAPER_COSTS } })), hash);
    }
    const changed = resolveRunConfig({ cost: { pulse_ns: 10, read_ns: 40 } });
    assert.deepEqual(changed.cost, { pulse_ns: 10 });
    assert.match(canonicalJson(changed), /"cost":\{"pulse_ns":10\}/);
    assert.notEqual(runHash(changed), runHash(resolveRunConfig({})));
    assert.deepEqual(resolvedValueAt(resolveRunConfig({}), 'cost.pulse_ns'), { present: true, value: 5 });
    assert.deepEqual(resolvedValueAt(changed, 'cost.pulse_ns'), { present: true, value: 10 });
    assert.deepEqual(resolvedValueAt(changed, 'cost.read_ns'), { present: true, value: 40 });
    assert.equal(parseValueFor(RUN_SCHEMA, 'cost.digital_gflops', '350'), 350);
    for (const [input, re] of [
      [{ cost: { pulse_ns: 0 } }, /^cost\.pulse_ns: expected a number > 0, got 0$/],
      [{ cost: { pulse_fj: -1 } }, /^cost\.pulse_fj: expected a number >= 0, got -1$/],
      [
        { cost: { watts: 1 } },
        /^cost\.watts: unknown field \(allowed here: pulse_ns, read_ns, digital_gflops, pulse_fj, read_fj, backward_fj, flop_pj, bytes_per_element\)$/,
      ],
    ] as const) {
      assert.throws(
        () => resolveRunConfig(input),
        (e: unknown) => e instanceof ConfigError && re.test(e.message),
        JSON.stringify(input),
      );
    }
  },
);

test(
  'the estimates never change the training: digests pinned before the counters; other constants, other ' +
    'estimates, the same bits',
  () => {
    // weights digests of these runs at the commit before the cost counters (HEAD f988bf7)
    const ls = (algorithm: string) =>
      resolveRunConfig({
        algorithm,
        seed: 3,
        epochs: 3,
        task: { kind: 'least-squares', in_size: 6, out_size: 4, n_samples: 40 },
        batch_size: 2,
        device: { kind: 'softbounds', n_states: 20 },
        lr: 0.05,
      });
    const pinned: [string, string][] = [
      ['ttv2', '7ea6f0e29f03aa06'],
      ['c-ttv2', '6548875fe8ae8971'],
      ['mp', '2b31aa5af700351c'],
      ['residual', 'c411d4558c4d47b2'],
    ];
    for (const [algorithm, digest] of pinned) assert.equal(train(ls(algorithm)).weights_digest, digest, algorithm);
    const mlp = resolveRunConfig({
      algorithm: 'agad',
      seed: 1,
      epochs: 1,
      lr: 0.1,
      batch_size: 10,
      task: { kind: 'mnist', downsample: true, train_size: 300, test_size: 100 },
      model: { kind: 'mlp', hidden: [16], activation: 'tanh' },
      device: { kind: 'softbounds', n_states: 16 },
    });
    const base = train(mlp, {}, loadDataset(mlp.task));
    assert.equal(base.weights_digest, '70a164544edc4cf9');
    const slow = resolveRunConfig({ ...mlp, cost: { pulse_ns: 10, read_ns: 80, digital_gflops: 87.5 } });
    const other = train(slow, {}, loadDataset(slow.task));
    assert.equal(other.weights_digest, base.weights_digest);
    const strip = (m: EpochMetrics) => ({ ...m, update_ns: undefined, wall_ms: undefined });
    assert.deepEqual(other.history.map(strip), base.history.map(strip));
    // every part of the time doubles
    assert.ok(Math.abs(other.final.update_ns! - 2 * base.final.update_ns!) < 1e-9 * base.final.update_ns!);
  },
);

// ---- the metrics in the store, the tables and the export ---------------------------------------

test(
  'cost metrics: lower is better; migration 5 gives old databases NULL columns; read commands read older schemas ' +
    'as NULL',
  () => {
    for (const m of ['update_ns', 'energy_nj', 'storage_bytes'] as const) {
      assert.ok((EPOCH_METRICS as readonly string[]).includes(m));
      assert.equal(isAccuracyMetric(m), false);
    }
    const dir = mkdtempSync(join(tmpdir(), 'aimc-cost-'));
    // a version-4 database with one done run
    const file = join(dir, 'v4.db');
    const old = new Database(file);
    for (const m of MIGRATIONS.filter((m) => m.version <= 4)) old.exec(m.sql);
    old.pragma('user_version = 4');
    old.prepare("INSERT INTO sweeps (id, name, spec_json, created_at, updated_at) VALUES (1, 's', '{}', 1, 1)").run();
    old
      .prepare(
        "INSERT INTO runs (hash, config_json, numerics_version, status, attempt, created_at) VALUES ('h1', " +
          '\'{"algorithm":"mp","seed":1}\', 3, \'done\', 1, 5)',
      )
      .run();
    old
      .prepare("INSERT INTO sweep_runs (sweep_id, run_hash, position, assignments_json) VALUES (1, 'h1', 0, '{}')")
      .run();
    old
      .prepare(
        'INSERT INTO results (run_hash, attempt, epochs, train_loss, pulses_json, weights_digest, finished_at) ' +
          "VALUES ('h1', 1, 1, 0.25, '{}', 'd', 6)",
      )
      .run();
    old
      .prepare(
        "INSERT INTO epoch_metrics (run_hash, attempt, epoch, train_loss, pulses_json) VALUES ('h1', 1, 1, 0.25, '{}')",
      )
      .run();
    old.close();
    // read as it is (no migration): the cost metrics are NULL, the rest reads
    const ro = openStoreReadonly(file);
    const [run] = sweepRuns(ro, 1);
    assert.deepEqual(
      [run.result!.train_loss, run.result!.update_ns, run.result!.energy_nj, run.result!.storage_bytes],
      [0.25, null, null, null],
    );
    assert.throws(
      () => buildSweepPivot(ro, 's', { metric: 'update_ns' }),
      /--metric update_ns: no done run of s records it; its metrics: train_loss/,
    );
    ro.close();
    // a writing open migrates: the old rows get NULL, new results store the estimates
    const db = openStore(file);
    assert.equal(db.pragma('user_version', { simple: true }), SCHEMA_VERSION);
    for (const table of ['results', 'epoch_metrics']) {
      assert.deepEqual(
        db.prepare(`SELECT train_loss, update_ns, energy_nj, storage_bytes FROM ${table} WHERE run_hash = 'h1'`).get(),
        { train_loss: 0.25, update_ns: null, energy_nj: null, storage_bytes: null },
      );
    }
    const q = new SqliteRunQueue(db);
    const runs = [1, 2].map((seed) => {
      const config = { algorithm: 'residual', seed };
      return {
        hash: runHash(config as never),
        configJson: canonicalJson(config),
        numericsVersion: 3,
        assignmentsJson: canonicalJson({ seed }),
      };
    });
    const { sweepId } = q.recordSweep({ name: 'c', description: '', specJson: '{}', source: 'c.yaml', runs }, 10);
    for (const lease of q.lease('w', 2, 20, 1000, sweepId)) {
      const seed = (JSON.parse(lease.configJson) as { seed: number }).seed;
      const history: EpochMetrics[] = [
        { epoch: 0, train_loss: 1, storage_bytes: 2130, pulses: {} },
        { epoch: 1, train_loss: 0.5, update_ns: 90 + seed, energy_nj: 12 + seed, storage_bytes: 2130, pulses: {} },
        { epoch: 2, train_loss: 0.4, update_ns: 95 + seed, energy_nj: 13 + seed, storage_bytes: 2130, pulses: {} },
      ];
      const result: RunResult = {
        numerics_version: 3,
        config: {} as RunResult['config'],
        history,
        final: history[2],
        weights_digest: 'd',
      };
      assert.deepEqual(q.complete('w', lease, result, 30), { accepted: true });
    }
    const final = buildSweepPivot(db, 'c', { rows: ['algorithm'], cols: ['seed'], metric: 'update_ns' });
    const best = buildSweepPivot(db, 'c', { rows: ['algorithm'], cols: ['seed'], metric: 'update_ns', epoch: 'best' });
    const cells = (t: typeof final) => t.cells.map((c) => c.mean);
    assert.deepEqual(cells(final), [96, 97]);
    assert.deepEqual(cells(best), [91, 92], 'the best epoch of a cost is its lowest');
    const exported = exportRows(sweepRuns(db, sweepId));
    for (const c of ['update_ns', 'energy_nj', 'storage_bytes']) assert.ok(exported.columns.includes(c), c);
    const row = exported.rows[0] as Record<string, unknown>;
    assert.deepEqual([row.update_ns, row.energy_nj, row.storage_bytes], [96, 14, 2130]);
    db.close();
  },
);
