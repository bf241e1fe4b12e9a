/**
 * Wire messages <-> the core's types. Metrics cross as proto3 `optional double`s (absent stays
 * absent, NaN stays NaN so the coordinator can see a diverged run), pulses as a map.
 */
import { create, type MessageInitShape } from '@bufbuild/protobuf';
import { EPOCH_METRICS } from '../core/tasks/run-result.ts';
import type { EpochMetrics, RunResult } from '../core/train.ts';
import {
  type EpochMetrics as EpochMetricsMsg,
  EpochMetricsSchema,
  type LeaseRef as LeaseRefMsg,
  type RunResult as RunResultMsg,
  RunResultSchema,
} from '../gen/aimcsweep/v1/run_pb.ts';
import type { LeaseRef, ReportedResult } from '../store/run-queue.ts';

const OPTIONAL_METRICS = [...EPOCH_METRICS, 'wall_ms'] as const;
type OptionalMetric = (typeof OPTIONAL_METRICS)[number];

/** Each metric's field of the wire message (a metric added to EPOCH_METRICS must be named here). */
const WIRE_FIELD = {
  train_loss: 'trainLoss',
  weight_error: 'weightError',
  step_loss: 'stepLoss',
  step_weight_error: 'stepWeightError',
  train_accuracy: 'trainAccuracy',
  test_loss: 'testLoss',
  test_accuracy: 'testAccuracy',
  update_ns: 'updateNs',
  energy_nj: 'energyNj',
  storage_bytes: 'storageBytes',
  wall_ms: 'wallMs',
} as const satisfies Record<OptionalMetric, keyof EpochMetricsMsg>;

export function epochToWire(m: EpochMetrics): MessageInitShape<typeof EpochMetricsSchema> {
  const out: MessageInitShape<typeof EpochMetricsSchema> = { epoch: m.epoch, pulses: { ...m.pulses } };
  for (const k of OPTIONAL_METRICS) out[WIRE_FIELD[k]] = m[k];
  return out;
}

/** An epoch from a peer; a missing train_loss stays missing (the store rejects the record). */
export function epochFromWire(m: EpochMetricsMsg): EpochMetrics {
  const out = { epoch: m.epoch, pulses: { ...m.pulses } } as EpochMetrics;
  for (const k of OPTIONAL_METRICS) {
    const v = m[WIRE_FIELD[k]];
    if (v !== undefined) out[k] = v;
  }
  return out;
}

export function resultToWire(r: RunResult): MessageInitShape<typeof RunResultSchema> {
  return { numericsVersion: r.numerics_version, history: r.history.map((m) => create(EpochMetricsSchema, epochToWire(m))), weightsDigest: r.weights_digest, wallMs: r.wall_ms };
}

/** A reported result as the store takes it (the config is the coordinator's own, never the peer's). */
export function resultFromWire(r: RunResultMsg): ReportedResult {
  const result: ReportedResult = { numerics_version: r.numericsVersion, history: r.history.map(epochFromWire), weights_digest: r.weightsDigest };
  if (r.wallMs !== undefined) result.wall_ms = r.wallMs;
  return result;
}

/** A lease reference from a peer, checked: a 64-hex run hash and a positive attempt. */
export function leaseFromWire(l: LeaseRefMsg | undefined): LeaseRef | undefined {
  if (!l || !/^[0-9a-f]{64}$/.test(l.runHash) || l.attempt < 1) return undefined;
  return { hash: l.runHash, attempt: l.attempt };
}

export function leaseToWire(l: LeaseRef): { runHash: string; attempt: number } {
  return { runHash: l.hash, attempt: l.attempt };
}
