/**
 * The short label of a run in progress lines and `expand`'s list: the swept values that made it
 * (`device.n_states=4 seed=1 algorithm=ttv2`), without the keys the run does not have (a digital
 * `sgd` run has no device, so `device.n_states` swept beside it is not its value).
 */
import { resolvedValueAt } from '../core/config/resolved-value.ts';
import type { ExpandedRun } from '../sweep/expand.ts';

export function runLabel(run: Pick<ExpandedRun, 'assignments' | 'config'>): string {
  const parts = Object.entries(run.assignments)
    .filter(([k]) => resolvedValueAt(run.config, k).present)
    .map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`);
  return parts.length > 0 ? parts.join(' ') : 'base';
}
