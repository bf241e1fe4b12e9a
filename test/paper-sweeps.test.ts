/**
 * The paper-reproduction sweeps: each comes in a quick and a full version, and one quick sweep
 * runs here to check a trend its paper states (with seeds, not exact numbers).
 */
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { train } from '../src/core/train.ts';
import { expandSweep } from '../src/sweep/expand.ts';
import { readSweepFile } from '../src/sweep/spec.ts';

const DIR = new URL('../sweeps/', import.meta.url).pathname;
const papers = readdirSync(DIR).filter((f) => f.startsWith('paper-') && f.endsWith('.yaml'));

test('every paper sweep has a quick and a full version', () => {
  const names = papers.map((f) => f.replace(/\.yaml$/, ''));
  for (const n of names) {
    const full = n.replace(/-quick$/, '');
    assert.ok(names.includes(full) && names.includes(`${full}-quick`), `${full}: quick and full`);
  }
  for (const n of [
    'paper-a-table1',
    'paper-a-states-tiles',
    'paper-a-gamma',
    'paper-b-table5',
    'paper-b-table6',
    'paper-c-fig4',
  ])
    assert.ok(names.includes(n), n);
});

test("the sweeps of tables with numbers carry the papers' values, each matching a cell (expandSweep checks)", () => {
  for (const name of ['paper-a-table1', 'paper-b-table5', 'paper-b-table6', 'paper-c-fig4', 'residual-toy']) {
    for (const file of [`${name}.yaml`, `${name}-quick.yaml`]) {
      if (name === 'residual-toy' && file.endsWith('-quick.yaml')) continue; // one size: 21 s
      const spec = readSweepFile(join(DIR, file));
      assert.ok(spec.reference.length > 0, `${file}: references`);
      expandSweep(spec); // throws if a reference matches no run
    }
  }
});

test(
  'c-TTv2 paper, Fig. 4 (quick sweep): with a reference offset spread of 0.3, c-TTv2 and AGAD program the ' +
    'weights better than TT-v2',
  () => {
    const { runs } = expandSweep(readSweepFile(join(DIR, 'paper-c-fig4-quick.yaml')));
    const offset = runs.filter((r) => r.config.sigma_r === 0.3 && r.config.device?.n_states === 20);
    const mean = (algorithm: string): number => {
      const mine = offset.filter((r) => r.config.algorithm === algorithm);
      assert.equal(mine.length, 3, `${algorithm}: three seeds`);
      return mine.reduce((s, r) => s + train(r.config).final.weight_error!, 0) / mine.length;
    };
    const ttv2 = mean('ttv2');
    for (const chopped of ['c-ttv2', 'agad']) {
      const e = mean(chopped);
      assert.ok(e < 0.5 * ttv2, `${chopped} weight error ${e} vs TT-v2 ${ttv2}`);
    }
  },
);
