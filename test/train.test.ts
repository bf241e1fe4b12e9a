import assert from 'node:assert/strict';
import { test } from 'node:test';
import { resolveRunConfig } from '../src/core/config/run-config.ts';
import { train } from '../src/core/train.ts';

const small = {
  task: { in_size: 8, out_size: 4, n_samples: 40 },
  epochs: 5,
  batch_size: 4,
  lr: 0.05,
};

test('the same config and seed give bit-identical results; another seed differs', () => {
  const cfg = resolveRunConfig({ ...small, seed: 7 });
  const a = train(cfg);
  const b = train(cfg);
  assert.equal(a.weights_digest, b.weights_digest);
  assert.deepEqual(a.history, b.history);
  const c = train(resolveRunConfig({ ...small, seed: 8 }));
  assert.notEqual(c.weights_digest, a.weights_digest);
});

test('digital SGD reaches the least-squares optimum', () => {
  const r = train(resolveRunConfig({ ...small, algorithm: 'sgd', epochs: 60, lr: 0.1, batch_size: 1 }));
  assert.ok(r.final.weight_error! < 1e-8, `weight error ${r.final.weight_error}`);
  assert.ok(r.final.train_loss < 1e-8);
  assert.deepEqual(r.final.pulses, {});
});

test('analog SGD trains below its starting loss and counts its pulses', () => {
  const r = train(resolveRunConfig({ ...small, epochs: 10, device: { kind: 'softbounds', n_states: 200 } }));
  assert.ok(r.final.train_loss < 0.2 * r.history[0].train_loss, `loss ${r.history[0].train_loss} -> ${r.final.train_loss}`);
  assert.ok(r.final.pulses.W > 0);
  assert.ok(r.history.length === 11 && r.history[0].epoch === 0);
});

test('fewer conductance states leave a higher error floor', () => {
  const err = (n: number) =>
    train(resolveRunConfig({ ...small, epochs: 20, device: { kind: 'constant-step', n_states: n, dw_min_std: 0 } })).final.weight_error!;
  assert.ok(err(10) > 3 * err(1000), `10 states ${err(10)} vs 1000 states ${err(1000)}`);
});
