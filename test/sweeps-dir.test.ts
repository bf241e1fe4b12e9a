/** Every sweep definition shipped in sweeps/ validates and expands (a broken one is a release bug). */
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { expandSweep } from '../src/sweep/expand.ts';
import { readSweepFile } from '../src/sweep/spec.ts';

const DIR = new URL('../sweeps/', import.meta.url).pathname;
const files = readdirSync(DIR).filter((f) => f.endsWith('.yaml'));

test('sweeps/ holds the quickstart and the paper reproductions', () => {
  for (const f of ['quickstart.yaml', 'residual-toy.yaml', 'paper-a-table1.yaml', 'states-by-algorithm.yaml'])
    assert.ok(files.includes(f), f);
});

for (const file of files) {
  test(`sweeps/${file} expands`, () => {
    const spec = readSweepFile(join(DIR, file));
    assert.equal(`${spec.name}.yaml`, file, 'the file is named after its sweep');
    assert.ok(spec.description.length > 0, 'it says what it shows');
    const { runs } = expandSweep(spec);
    assert.ok(runs.length > 0);
    assert.equal(new Set(runs.map((r) => r.hash)).size, runs.length);
  });
}

test('the quickstart stays small (npm start must finish in minutes on 2 cores)', () => {
  const { runs } = expandSweep(readSweepFile(join(DIR, 'quickstart.yaml')));
  assert.equal(runs.length, 22);
  assert.ok(
    runs.every(
      (r) => r.config.epochs <= 3 && r.config.task.kind === 'mnist' && (r.config.task.train_size ?? Infinity) <= 2000,
    ),
  );
});
