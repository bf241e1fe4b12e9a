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
  assert.ok(
    r.final.train_loss < 0.2 * r.history[0].train_loss,
    `loss ${r.history[0].train_loss} -> ${r.final.train_loss}`,
  );
  assert.ok(r.final.pulses.W > 0);
  assert.ok(r.history.length === 11 && r.history[0].epoch === 0);
});

test('fewer conductance states leave a higher error floor', () => {
  const err = (n: number) =>
    train(resolveRunConfig({ ...small, epochs: 20, device: { kind: 'constant-step', n_states: n, dw_min_std: 0 } }))
      .final.weight_error!;
  assert.ok(err(10) > 3 * err(1000), `10 states ${err(10)} vs 1000 states ${err(1000)}`);
});

// ---- step means of least-squares epochs (step_loss, step_weight_error) ----------------------------

/** The scalar toy f(w) = 0.5 (w - b)^2, b exact in float32, w from 0. */
const scalar = (over: Record<string, unknown>) =>
  resolveRunConfig({
    task: { kind: 'least-squares', form: 'scalar', target: 0.375, n_samples: 5 },
    init: { kind: 'zero' },
    epochs: 3,
    lr: 0.3,
    ...over,
  });

test(
  'step_weight_error: the mean over the steps of (w - b)^2 before each update (digital SGD replayed by ' + 'hand)',
  () => {
    const b = 0.375;
    const lr = 0.3;
    for (const bs of [1, 2]) {
      const r = train(scalar({ algorithm: 'sgd', batch_size: bs }));
      assert.equal(r.history[0].step_weight_error, undefined, 'epoch 0 has no steps');
      assert.equal(r.history[0].step_loss, undefined);
      let w = 0;
      for (let epoch = 1; epoch <= 3; epoch++) {
        let sum = 0;
        let steps = 0;
        for (let start = 0; start < 5; start += bs) {
          const batch = Math.min(bs, 5 - start);
          sum += (w - b) ** 2;
          steps++;
          const d = Math.fround((w - b) / batch); // every sample of the batch has input 1 and error w - b
          for (let k = 0; k < batch; k++) w = Math.fround(w - lr * d);
        }
        const m = r.history[epoch];
        assert.equal(m.step_weight_error, sum / steps, `batch ${bs}, epoch ${epoch}`);
        assert.equal(m.weight_error, (w - b) ** 2, 'the snapshot after the epoch');
        assert.notEqual(m.step_weight_error, m.weight_error);
      }
    }
  },
);

test(
  'step_loss is 0.5 step_weight_error on the noiseless scalar toy (input 1, batch 1), gradient noise ' + 'left out',
  () => {
    const runs = {
      sgd: train(scalar({ algorithm: 'sgd' })),
      'sgd, gradient noise': train(
        scalar({
          algorithm: 'sgd',
          task: { kind: 'least-squares', form: 'scalar', target: 0.375, n_samples: 5, grad_noise: 0.5 },
        }),
      ),
      'analog-sgd': train(scalar({ algorithm: 'analog-sgd', device: { kind: 'softbounds', n_states: 50 } })),
    };
    assert.notEqual(
      runs['sgd, gradient noise'].weights_digest,
      runs.sgd.weights_digest,
      'the noise did act on the updates',
    );
    for (const [name, r] of Object.entries(runs)) {
      for (const m of r.history.slice(1)) {
        assert.ok(m.step_weight_error! > 0, name);
        assert.equal(m.step_loss, 0.5 * m.step_weight_error!, `${name}, epoch ${m.epoch}`);
      }
    }
    // the loss is that of y as the forward pass returned it: with output noise it is no longer 0.5 times the error
    const noisy = train(
      scalar({
        algorithm: 'analog-sgd',
        device: { kind: 'softbounds', n_states: 50 },
        io: { kind: 'noisy', out_noise: 0.1 },
      }),
    );
    for (const m of noisy.history.slice(1)) assert.notEqual(m.step_loss, 0.5 * m.step_weight_error!);
  },
);
