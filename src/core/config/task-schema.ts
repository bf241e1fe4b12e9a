/**
 * The `task` section of a RunConfig: what is learned, and its data.
 */
import { group, type GroupSpec, num, oneOf, type Plain } from './schema.ts';

export interface LeastSquaresTask {
  kind: 'least-squares';
  form: 'matrix' | 'scalar';
  in_size?: number;
  out_size?: number;
  target_std?: number;
  target?: number | null;
  n_samples: number;
  grad_noise: number;
}

export type TaskConfig = LeastSquaresTask;

const matrixForm = (root: Plain): boolean => (root.task as Plain).form === 'matrix';
const scalarForm = (root: Plain): boolean => (root.task as Plain).form === 'scalar';

export const TASK_SCHEMA: GroupSpec = group('What is learned.', {
  kind: oneOf('Task.', ['least-squares'], 'least-squares'),
  form: oneOf('matrix: f(W) = 0.5 ||W a - W* a||^2 over samples a ~ N(0, I); scalar: f(w) = 0.5 (w - b)^2.', ['matrix', 'scalar'], 'matrix'),
  in_size: num('Input dimension D of W (out_size x in_size).', 50, { integer: true, min: 1, when: matrixForm, whenDoc: 'task.form matrix' }),
  out_size: num('Output dimension of W.', 10, { integer: true, min: 1, when: matrixForm, whenDoc: 'task.form matrix' }),
  target_std: num('Entries of W* ~ N(0, target_std^2) (science.md §4: 0.5).', 0.5, { min: 0, when: matrixForm, whenDoc: 'task.form matrix' }),
  target: num('Target b of the scalar toy; null draws a 16-bit value in [-0.8, 0.8] from the seed.', null, { nullable: true, when: scalarForm, whenDoc: 'task.form scalar' }),
  n_samples: num('Samples per epoch (matrix: distinct inputs a; scalar: steps).', 100, { integer: true, min: 1 }),
  grad_noise: num('Std of Gaussian noise added to each per-sample error (gradient noise).', 0, { min: 0 }),
});
