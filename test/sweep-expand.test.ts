import assert from 'node:assert/strict';
import { test } from 'node:test';
import { resolveRunConfig } from '../src/core/config/run-config.ts';
import { canonicalJson, runHash } from '../src/sweep/canonical.ts';
import { expandSweep } from '../src/sweep/expand.ts';
import { parseSweepText, SweepError } from '../src/sweep/spec.ts';

const expand = (yaml: string) => expandSweep(parseSweepText(yaml, 'sweeps/t.yaml'));
const fails = (yaml: string, re: RegExp) =>
  assert.throws(
    () => expand(yaml),
    (e: unknown) => e instanceof SweepError && re.test(e.message),
    `expected ${re}`,
  );

const BASE = 'base: { task: { in_size: 4, out_size: 2, n_samples: 8 }, epochs: 1 }';

test('grid is a cartesian product; cases are alternatives whose lists expand; zip moves in lock step', () => {
  const e = expand(`
name: t
${BASE}
grid:
  device.n_states: [4, 16]
  seed: [1, 2, 3]
cases:
  - { algorithm: analog-sgd }
  - { algorithm: residual, n_tiles: [2, 3] }
zip: { lr: [0.1, 0.05], batch_size: [1, 2] }
`);
  // (1 + 2 cases) x 2 x 3 x 2 zip rows
  assert.equal(e.runs.length, 3 * 2 * 3 * 2);
  const residual3 = e.runs.filter((r) => r.config.algorithm === 'residual' && r.config.n_tiles === 3);
  assert.equal(residual3.length, 12);
  for (const r of e.runs)
    assert.ok(
      (r.config.lr === 0.1 && r.config.batch_size === 1) || (r.config.lr === 0.05 && r.config.batch_size === 2),
    );
});

test('exclude drops partial matches, on resolved values', () => {
  const e = expand(`
name: t
${BASE}
grid: { device.n_states: [4, 16], seed: [1, 2] }
cases: [ { algorithm: analog-sgd }, { algorithm: mp } ]
exclude: [ { algorithm: mp, device.n_states: 4 } ]
`);
  assert.equal(e.runs.length, 6);
  assert.equal(e.excluded, 2);
  assert.ok(!e.runs.some((r) => r.config.algorithm === 'mp' && r.config.device?.n_states === 4));
});

test('exclude matches a field canonical configs leave out at its default; a key a run lacks never matches', () => {
  const e = expand(`
name: t
base:
  task: { kind: least-squares, in_size: 4, out_size: 2, n_samples: 8 }
  epochs: 1
  device: { kind: softbounds, mult_noise: false }
grid: { update.closed_form_pulses: [false, true], seed: [1, 2] }
exclude: [ { update.closed_form_pulses: false } ]
`);
  assert.equal(e.runs.length, 2);
  assert.equal(e.excluded, 2);
  for (const r of e.runs) assert.equal(r.config.update?.closed_form_pulses, true);
  // digital sgd has no update section: the entry does not match it
  const mixed = expand(`
name: t
base: { task: { kind: least-squares, in_size: 4, out_size: 2, n_samples: 8 }, epochs: 1 }
cases: [ { algorithm: sgd }, { algorithm: analog-sgd } ]
exclude: [ { update.closed_form_pulses: false } ]
`);
  assert.deepEqual(
    mixed.runs.map((r) => r.config.algorithm),
    ['sgd'],
  );
});

test('identical runs are merged: the digital baseline ignores the device axis', () => {
  const e = expand(`
name: t
${BASE}
grid: { device.n_states: [4, 16, 64] }
cases: [ { algorithm: sgd }, { algorithm: analog-sgd } ]
`);
  assert.equal(e.runs.length, 1 + 3);
  assert.equal(e.merged, 2);
});

test('list-valued fields: a flat list is one value, a list of lists enumerates', () => {
  const e = expand(
    `
name: t
${BASE}
base: { task: { in_size: 4, out_size: 2, n_samples: 8 }, epochs: 1, device: { kind: piecewise } }
grid: { device.piecewise_up: [[1, 0.5], [1, 1]] }
cases: [ { device.piecewise_down: [1, 0.8] } ]
`.replace(`${BASE}\n`, ''),
  );
  assert.equal(e.runs.length, 2);
  assert.deepEqual(e.runs[0].config.device?.piecewise_down, [1, 0.8]);
});

test('canonical hashing: key order and explicit defaults do not change the hash; a changed value does', () => {
  const a = resolveRunConfig({ lr: 0.1, device: { n_states: 4, kind: 'softbounds' } });
  const b = resolveRunConfig({
    device: { kind: 'softbounds', n_states: 4, w_min: -1, dw_min_std: 0.3 },
    lr: 0.1,
    seed: 0,
  });
  const c = resolveRunConfig({ lr: 0.1, device: { dw_min: 0.5 } });
  assert.equal(runHash(a), runHash(b));
  assert.equal(runHash(a), runHash(c), 'n_states 4 and dw_min 0.5 are one device');
  assert.notEqual(runHash(a), runHash(resolveRunConfig({ lr: 0.1, device: { n_states: 5 } })));
  assert.notEqual(runHash(a), runHash(resolveRunConfig({ lr: 0.1, seed: 1, device: { n_states: 4 } })));
  assert.equal(canonicalJson({ b: 1, a: [2, { d: -0, c: 'x' }] }), '{"a":[2,{"c":"x","d":0}],"b":1}');
});

test('validation errors name the file, line, key path and expectation', () => {
  fails(
    `name: t\n${BASE}\ngrid:\n  device.n_sates: [4]\n`,
    /^sweeps\/t\.yaml:4: grid\.device\.n_sates: unknown run config field; did you mean device\.n_states\?$/,
  );
  fails(
    `name: t\n${BASE}\nzip:\n  lr: [0.1, 0.2]\n  seed: [1]\n`,
    /^sweeps\/t\.yaml:5: zip\.seed: has 1 values but the other zip lists have 2/,
  );
  fails(
    `name: t\n${BASE}\ngrid:\n  device.n_states: [4, 1]\n`,
    /^sweeps\/t\.yaml:4: run device\.n_states=1: device\.n_states: expected a number >= 2, got 1$/,
  );
  fails(`name: t\n${BASE}\ngrid:\n  lr: ["fast"]\n`, /sweeps\/t\.yaml:4: .*lr: expected a number > 0, got "fast"/);
  fails(`name: t\n${BASE}\ncolour: red\n`, /^sweeps\/t\.yaml:3: colour: unknown sweep field/);
  fails(`name: t\n${BASE}\ngrid:\n  seed: [1]\nzip:\n  seed: [2]\n`, /zip\.seed: seed is already swept in grid/);
  fails(`name: t\n${BASE}\ngrid: { seed: [] }\n`, /grid\.seed: expected a non-empty list/);
  fails(`name: "bad name!"\n${BASE}\n`, /name: expected a name/);
  fails(`name: t\nname: u\n`, /^sweeps\/t\.yaml:2: invalid YAML/);
  fails(`name: t\n${BASE}\ngrid: { seed: [1] }\nexclude: [ { seed: 1 } ]\n`, /expands to no runs/);
  fails(
    `name: t\n${BASE}\ncases: [ { algorithm: analog-sgd, gamma: 0.1 } ]\n`,
    /^sweeps\/t\.yaml:3: .*gamma: does not apply/,
  );
});
