/**
 * Wire messages <-> the core's types. Metrics cross as proto3 `optional double`s (absent stays
 * absent, NaN stays NaN so the coordinator can see a diverged run), pulses as a map.
 */
import { create, type MessageInitShape } from '@bufbuild/protobuf';
import type { EpochMetrics, RunResult } from '../core/train.ts';
import {
  type EpochMetrics as EpochMetricsMsg,
  EpochMetricsSchema,
  type LeaseRef as LeaseRefMsg,
  type RunResult as RunResultMsg,
  RunResultSchema,
} from '../gen/aimcsweep/v1/run_pb.ts';
import type { LeaseRef, ReportedResult } from '../store/run-queue.ts';

const OPTIONAL_METRICS = ['train_loss', 'weight_error', 'train_accuracy', 'test_loss', 'test_accuracy', 'wall_ms'] as const;

export function epochToWire(m: EpochMetrics): MessageInitShape<typeof EpochMetricsSchema> {
  return {
    epoch: m.epoch,
    trainLoss: m.train_loss,
    weightError: m.weight_error,
    trainAccuracy: m.train_accuracy,
    testLoss: m.test_loss,
    testAccuracy: m.test_accuracy,
    wallMs: m.wall_ms,
    pulses: { ...m.pulses },
  };
}

/** An epoch from a peer; a missing train_loss stays missing (the store rejects the record). */
export function epochFromWire(m: EpochMetricsMsg): EpochMetrics {
  const out = { epoch: m.epoch, pulses: { ...m.pulses } } as EpochMetrics;
  const wire: Record<(typeof OPTIONAL_METRICS)[number], number | undefined> = {
    train_loss: m.trainLoss,
    weight_error: m.weightError,
    train_accuracy: m.trainAccuracy,
    test_loss: m.testLoss,
    test_accuracy: m.testAccuracy,
    wall_ms: m.wallMs,
  };
  for (const k of OPTIONAL_METRICS) if (wire[k] !== undefined) out[k] = wire[k];
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
