/**
 * The simulation thread pool (src/worker/pool.ts): errors no run owns never end the process. A
 * run aborted just as its thread posts the result makes piscina emit 'error' ("Unexpected message
 * from Worker"), which without a listener throws: seen once in the disk-full test under load.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { resolveRunConfig } from '../src/core/config/run-config.ts';
import { canonicalJson, runHash } from '../src/sweep/canonical.ts';
import { SimulationPool } from '../src/worker/pool.ts';

test(
  'pool errors no run owns: a late result of an aborted run is dropped, others are one line on stderr; the pool ' +
    'goes on',
  async () => {
    const pool = new SimulationPool(1);
    const emitter = (pool as unknown as { pool: NodeJS.EventEmitter }).pool;
    const written: string[] = [];
    const write = process.stderr.write.bind(process.stderr);
    process.stderr.write = ((chunk: string) => (written.push(String(chunk)), true)) as typeof process.stderr.write;
    try {
      emitter.emit('error', new Error('Unexpected message from Worker: { taskId: 3, result: {} }'));
      emitter.emit('error', new Error('worker exited with code 1'));
    } finally {
      process.stderr.write = write;
    }
    assert.deepEqual(written, [
      'aimc-sweep: a simulation thread failed outside any run (replaced): worker exited with code 1\n',
    ]);
    const config = resolveRunConfig({
      algorithm: 'sgd',
      seed: 1,
      epochs: 1,
      task: { kind: 'least-squares', in_size: 3, out_size: 2, n_samples: 8 },
    });
    const result = await pool.run(runHash(config), canonicalJson(config));
    assert.match(result.weights_digest, /^[0-9a-f]{16}$/);
    await pool.destroy();
  },
);
