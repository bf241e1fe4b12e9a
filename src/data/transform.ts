/** Pixel transforms shared by the loaders. */

/**
 * 2x down-sampling by 2x2 averages: n images of height x width (one channel) become
 * floor(height / 2) x floor(width / 2) (a last odd row or column is dropped), in the stored
 * units of the input (the caller keeps its scale).
 */
export function downsample2x(pixels: ArrayLike<number>, n: number, height: number, width: number): Float32Array {
  const h = height >> 1;
  const w = width >> 1;
  const out = new Float32Array(n * h * w);
  for (let s = 0, o = 0; s < n; s++) {
    const base = s * height * width;
    for (let i = 0; i < h; i++) {
      const r = base + 2 * i * width;
      for (let j = 0; j < w; j++, o++) {
        const p = r + 2 * j;
        out[o] = (pixels[p] + pixels[p + 1] + pixels[p + width] + pixels[p + width + 1]) * 0.25;
      }
    }
  }
  return out;
}

/** Copies the images (and labels) at `indices` into new contiguous arrays. */
export function gatherImages<T extends Uint8Array | Float32Array>(
  pixels: T,
  labels: Uint8Array,
  size: number,
  indices: ArrayLike<number>,
): { pixels: T; labels: Uint8Array } {
  const outPixels = new (pixels.constructor as new (n: number) => T)(indices.length * size);
  const outLabels = new Uint8Array(indices.length);
  for (let k = 0; k < indices.length; k++) {
    const s = indices[k];
    outPixels.set(pixels.subarray(s * size, (s + 1) * size), k * size);
    outLabels[k] = labels[s];
  }
  return { pixels: outPixels, labels: outLabels };
}
