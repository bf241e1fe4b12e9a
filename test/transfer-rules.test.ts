/**
 * The rules of the transfers themselves: the IO of transfer reads (transfer_io), aihwkit's
 * transfer-lr ratio with gamma > 0 for the buffered algorithms, and RL-v2's moving average
 * (eqs. 14-15 of the response-function paper).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ChoppedFastArray } from '../src/core/algorithms/chopped-fast-array.ts';
import { ReferencedArray } from '../src/core/algorithms/referenced-array.ts';
import { ThresholdBuffer } from '../src/core/algorithms/threshold-buffer.ts';
import { bufferedTransferLr, transferLr } from '../src/core/algorithms/transfer-schedule.ts';
import { resolveRunConfig } from '../src/core/config/run-config.ts';
import { AnalogTile } from '../src/core/tile.ts';
import { train } from '../src/core/train.ts';
import { NO_VARIATION } from './helpers.ts';

test('transfer_io: its kind follows io.kind unless set; it applies to the transfer algorithms only', () => {
  assert.deepEqual(resolveRunConfig({ algorithm: 'ttv2' }).transfer_io, { kind: 'ideal' });
  const noisy = resolveRunConfig({ algorithm: 'residual', io: { kind: 'noisy' } }).transfer_io;
  assert.equal(noisy?.kind, 'noisy');
  assert.equal(noisy?.out_noise, 0.06);
  assert.equal(noisy?.out_bound, 12);
  assert.equal('noise_management' in (noisy ?? {}), false, 'a one-hot read has no noise management');
  assert.equal(
    resolveRunConfig({ algorithm: 'tiki-taka', io: { kind: 'noisy' }, transfer_io: { kind: 'ideal' } }).transfer_io
      ?.kind,
    'ideal',
  );
  assert.equal(resolveRunConfig({ algorithm: 'mp', transfer_io: { kind: 'noisy' } }).transfer_io, undefined);
  assert.throws(
    () => resolveRunConfig({ algorithm: 'ttv2', transfer_io: { kind: 'noisy', noise_management: 'none' } }),
    /transfer_io\.noise_management/,
  );
});

test(
  'transfer reads go through transfer_io: exact when ideal, quantised and noisy when noisy, whatever the ' + 'main io',
  () => {
    const cfg = resolveRunConfig({
      algorithm: 'ttv2',
      device: { kind: 'softbounds', n_states: 1000, ...NO_VARIATION },
    });
    const tile = (transferIo: Record<string, unknown>) =>
      new AnalogTile({
        rows: 64,
        cols: 2,
        device: cfg.device!,
        io: cfg.io!,
        transferIo: resolveRunConfig({ algorithm: 'ttv2', transfer_io: transferIo }).transfer_io,
        update: cfg.update!,
        maxBatch: 1,
        seed: 5,
        name: 'r',
      });
    const values = Float32Array.from({ length: 128 }, (_, k) => Math.sin(k) * 0.8);
    const out = new Float32Array(64);
    const ideal = tile({ kind: 'ideal' });
    ideal.setWeights(values);
    ideal.readColumn(1, out);
    for (let i = 0; i < 64; i++) assert.equal(out[i], ideal.weights[i * 2 + 1]);

    const step = (2 * 12) / 510; // aihwkit: 9-bit ADC on [-12, 12]
    const quantised = tile({ kind: 'noisy', out_noise: 0 });
    quantised.setWeights(values);
    quantised.readColumn(1, out);
    for (let i = 0; i < 64; i++) {
      assert.ok(Math.abs(out[i] / step - Math.round(out[i] / step)) < 1e-4, `read ${out[i]} is not on the ADC grid`);
      assert.ok(Math.abs(out[i] - quantised.weights[i * 2 + 1]) <= step / 2 + 1e-6);
    }
    const noisy = tile({ kind: 'noisy', out_noise: 0.06, out_res: -1 });
    noisy.setWeights(values);
    noisy.readColumn(1, out);
    let ss = 0;
    for (let i = 0; i < 64; i++) ss += (out[i] - noisy.weights[i * 2 + 1]) ** 2;
    const sd = Math.sqrt(ss / 64);
    assert.ok(sd > 0.04 && sd < 0.085, `read noise sd ${sd}, expected about 0.06`);
  },
);

test("a noisy transfer_io changes a transfer algorithm's run; the main io stays ideal", () => {
  const run = (transfer_io: Record<string, unknown>) =>
    train(
      resolveRunConfig({
        seed: 2,
        algorithm: 'tiki-taka',
        task: { in_size: 6, out_size: 3 },
        epochs: 3,
        fast_lr: 0.1,
        transfer_io,
        device: { n_states: 50 },
      }),
    );
  assert.notEqual(run({ kind: 'noisy' }).weights_digest, run({ kind: 'ideal' }).weights_digest);
});

test(
  'gamma > 0: the buffered algorithms scale the transfer lr by gamma (aihwkit gamma_vec[from] / ' + 'gamma_vec[to])',
  () => {
    const ttv2 = (gamma: number) => resolveRunConfig({ algorithm: 'ttv2', gamma, transfer_lr: 0.8 });
    assert.equal(bufferedTransferLr(ttv2(0), 0.1), transferLr(ttv2(0), 0.1));
    assert.ok(Math.abs(bufferedTransferLr(ttv2(0), 0.1) - 0.08) < 1e-15);
    assert.ok(Math.abs(bufferedTransferLr(ttv2(0.25), 0.1) - 0.02) < 1e-15);
    // the chopped fast array (c-TTv2, AGAD) turns a read into buffer units with the same rule
    const chopped = (gamma: number) => {
      const config = resolveRunConfig({
        algorithm: 'c-ttv2',
        gamma,
        transfer_lr: 0.8,
        device: { kind: 'softbounds', n_states: 100, ...NO_VARIATION },
      });
      const tile = new AnalogTile({
        rows: 2,
        cols: 2,
        device: config.device!,
        io: config.io!,
        update: config.update!,
        maxBatch: 1,
        seed: 1,
        name: 'c',
      });
      return new ChoppedFastArray(new ReferencedArray(tile, config), config, 1).bufferScale(0.1);
    };
    const dwMin = 0.02;
    assert.ok(Math.abs(chopped(0) - 0.08 / dwMin) < 1e-9);
    assert.ok(Math.abs(chopped(0.5) - (0.5 * 0.08) / dwMin) < 1e-9);
  },
);

test(
  'RL-v2 moving average: H is never reset and gives one pulse per read in its sign while |H| > the ' + 'threshold',
  () => {
    const h = new ThresholdBuffer(2, 1);
    const counts = new Int32Array(2);
    const decay = 0.9;
    const reads = [3, 3, 3, 3, 3, 3, -3, -3, -3, -3, -3, -3, -3, -3];
    const fired: number[] = [];
    const want: number[] = [];
    let expect = 0;
    for (const r of reads) {
      h.averageColumn(0, Float32Array.of(r, 0), 0.1, decay, counts);
      expect = decay * expect + 0.1 * r;
      assert.ok(Math.abs(h.h[0] - expect) < 1e-12, 'the entry is the moving average, not reset after a pulse');
      fired.push(counts[0]);
      want.push(expect > 1 ? 1 : expect < -1 ? -1 : 0);
      assert.equal(counts[1], 0);
    }
    assert.deepEqual(fired, want);
    // H: 0.3, 0.57, 0.81, 1.03 (fires), 1.23 (fires again: not reset), 1.41, then down below -1
    assert.deepEqual(fired.slice(0, 6), [0, 0, 0, 1, 1, 1]);
    assert.ok(fired.includes(-1));
  },
);

test(
  'RL-v2 (eqs. 14-15) reaches a lower weight error than TT-v2 with the same transfer budget on least ' + 'squares',
  () => {
    const error = (algorithm: string) => {
      let sum = 0;
      for (const seed of [1, 2, 3]) {
        const r = train(
          resolveRunConfig({
            seed,
            algorithm,
            task: { in_size: 10, out_size: 5, target_std: 0.2 },
            epochs: 150,
            lr: 0.02,
            fast_lr: 0.1,
            transfer_every: 1,
          }),
        );
        sum += r.final.weight_error!;
      }
      return sum / 3;
    };
    const rl = error('rlv2');
    const tt = error('ttv2');
    assert.ok(rl <= tt, `RL-v2 ${rl} vs TT-v2 ${tt}`);
  },
);
