/**
 * The in-memory form of an image-classification dataset, as the core receives it from its
 * caller (the loaders in src/data do the I/O; the core never reads files).
 */

export interface ImageSet {
  /** Number of images. */
  n: number;
  /**
   * n images of channels x height x width pixels each, row-major (channel, row, column).
   * Bytes (full-size IDX or mnist digits) or floats (down-sampled); the model input is
   * `pixels[k] * scale`.
   */
  pixels: Uint8Array | Float32Array;
  /** Multiplies a stored pixel into the model input in [0, 1] (1/255 for bytes). */
  scale: number;
  /** Class of each image, 0 .. classes - 1. */
  labels: Uint8Array;
}

export interface ClassificationData {
  /** e.g. "mnist", "fashion-mnist" (for messages) */
  name: string;
  channels: number;
  height: number;
  width: number;
  classes: number;
  train: ImageSet;
  test: ImageSet;
}

/** Pixels per image. */
export function imageSize(data: Pick<ClassificationData, 'channels' | 'height' | 'width'>): number {
  return data.channels * data.height * data.width;
}

/** Throws a message naming what is inconsistent (a caller's bug, or a corrupt loader). */
export function validateClassificationData(data: ClassificationData): void {
  const size = imageSize(data);
  for (const v of [data.channels, data.height, data.width, data.classes]) {
    if (!(Number.isInteger(v) && v >= 1))
      throw new Error(`dataset ${data.name}: channels, height, width and classes must be positive integers`);
  }
  if (data.classes > 256) throw new Error(`dataset ${data.name}: at most 256 classes, got ${data.classes}`);
  for (const [part, set] of [
    ['train', data.train],
    ['test', data.test],
  ] as const) {
    if (!(Number.isInteger(set.n) && set.n >= 1)) throw new Error(`dataset ${data.name}: the ${part} set is empty`);
    if (set.pixels.length !== set.n * size)
      throw new Error(
        `dataset ${data.name}: ${part} pixels hold ${set.pixels.length} values, expected ${set.n} x ${size}`,
      );
    if (set.labels.length !== set.n)
      throw new Error(`dataset ${data.name}: ${part} has ${set.labels.length} labels for ${set.n} images`);
    for (let k = 0; k < set.n; k++) {
      if (set.labels[k] >= data.classes)
        throw new Error(`dataset ${data.name}: ${part} label ${k} is ${set.labels[k]}, expected < ${data.classes}`);
    }
  }
}
