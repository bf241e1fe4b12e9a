import assert from 'node:assert/strict';
import { test } from 'node:test';
import { RUN_SCHEMA, resolveRunConfig } from '../src/core/config/run-config.ts';
import { ConfigError, parseValueFor, renderSchemaDoc } from '../src/core/config/schema.ts';
import { readFileSync } from 'node:fs';

test('defaults are filled; only the fields that apply are present', () => {
  const c = resolveRunConfig({});
  assert.equal(c.algorithm, 'analog-sgd');
  assert.equal(c.device?.kind, 'softbounds');
  assert.equal(c.device?.dw_min, 0.001);
  assert.equal(c.device?.n_states, 2000);
  assert.equal(c.io?.kind, 'ideal');
  assert.equal('out_noise' in (c.io ?? {}), false);
  assert.equal('gamma_res' in (c.device ?? {}), false);
  const digital = resolveRunConfig({ algorithm: 'sgd' });
  assert.equal(digital.device, undefined);
  assert.equal(digital.io, undefined);
  // the digital baseline ignores analog sections: one sgd run serves every device setting
  assert.deepEqual(resolveRunConfig({ algorithm: 'sgd', device: { n_states: 4 }, io: { kind: 'noisy' } }), digital);
});

test('n_states sets dw_min over the weight range', () => {
  const c = resolveRunConfig({ device: { n_states: 4 } });
  assert.equal(c.device?.dw_min, 0.5);
  const d = resolveRunConfig({ device: { n_states: 10, w_min: -0.5, w_max: 0.5 } });
  assert.equal(d.device?.dw_min, 0.1);
});

test('unknown keys, wrong types and fields that do not apply are rejected by path', () => {
  const cases: Array<[unknown, RegExp]> = [
    [{ lr: -1 }, /^lr: expected a number > 0, got -1$/],
    [{ epochs: 1.5 }, /^epochs: expected an integer >= 1, got 1.5$/],
    [{ learning_rate: 0.1 }, /^learning_rate: unknown field/],
    [{ task: { form: 'cube' } }, /^task\.form: expected one of matrix, scalar/],
    [{ task: { form: 'scalar', in_size: 3 } }, /^task\.in_size: does not apply.*task\.form matrix/],
    [{ io: { out_noise: 0.1 } }, /^io\.out_noise: does not apply.*io\.kind noisy/],
    [{ update: { desired_bl: 32 } }, /^update\.desired_bl: expected an integer >= 1 <= 31, got 32$/],
    [{ batch_size: 200 }, /^batch_size: must be <= task\.n_samples/],
    [[1, 2], /a run config must be a mapping/],
    // names an object inherits are no fields
    [{ constructor: 1 }, /^constructor: unknown field/],
    [{ task: { toString: 1 } }, /^task\.toString: unknown field/],
  ];
  for (const [input, re] of cases) {
    assert.throws(
      () => resolveRunConfig(input),
      (e: unknown) => e instanceof ConfigError && re.test(e.message),
      JSON.stringify(input),
    );
  }
});

test('--set values are parsed by the field type', () => {
  assert.equal(parseValueFor(RUN_SCHEMA, 'device.n_states', '16'), 16);
  assert.equal(parseValueFor(RUN_SCHEMA, 'update.update_management', 'false'), false);
  assert.deepEqual(parseValueFor(RUN_SCHEMA, 'device.piecewise_up', '[1, 0.5,0.25]'), [1, 0.5, 0.25]);
  assert.throws(() => parseValueFor(RUN_SCHEMA, 'lr', 'fast'), /lr: expected a number > 0, got "fast"/);
  assert.throws(() => parseValueFor(RUN_SCHEMA, 'device.nope', '1'), /device\.nope: unknown field/);
});

test('docs/config.md lists every field of the schema with its current default', () => {
  const doc = readFileSync(new URL('../docs/config.md', import.meta.url), 'utf8');
  for (const row of renderSchemaDoc(RUN_SCHEMA))
    assert.ok(doc.includes(row), `docs/config.md lacks or has a stale row:\n${row}\n(run npm run docs)`);
});
