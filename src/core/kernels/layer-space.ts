/**
 * One WebAssembly memory for the buffers of a network's modules (outputs, input gradients, a
 * convolution's unfolded input, ...), beside the module kernels of assembly/layers.ts. The
 * modules allocate their arrays here (views that stay valid: the memory is sized once, from
 * `moduleBytes` of every module, and never grows) and run their loops as kernels on them, which
 * is why one memory holds them all: a module reads the previous one's output in place.
 * Without the module (or in tests that ask for the reference) the modules use plain arrays and
 * their TypeScript loops, with the same bits.
 */
import { layoutBase, wasmApi } from './loader.ts';

export interface LayerExports {
  tanhForward(x: number, out: number, n: number, scratch: number): void;
  tanhBackward(gradOut: number, out: number, gradIn: number, n: number): void;
  reluForward(x: number, out: number, n: number): void;
  reluBackward(gradOut: number, out: number, gradIn: number, n: number): void;
  im2col(x: number, inSize: number, batch: number, cols: number, C: number, H: number, W: number, K: number): void;
  col2im(
    gradCols: number,
    gradIn: number,
    inSize: number,
    batch: number,
    C: number,
    H: number,
    W: number,
    K: number,
  ): void;
  convOut(y: number, out: number, bias: number, batch: number, patches: number, oc: number): void;
  convGrad(gradOut: number, y: number, batch: number, patches: number, oc: number): void;
  convBias(y: number, n: number, oc: number, lr: number, bias: number): void;
  poolForward(x: number, out: number, argmax: number, batch: number, C: number, H: number, W: number): void;
  poolBackward(gradOut: number, argmax: number, gradIn: number, batch: number, inSize: number, outSize: number): void;
}

const PAGE = 65536;

/** Bytes one array of n 4-byte elements takes in a space (64-aligned, 64 bytes of padding). */
export function arrayBytes(n: number): number {
  return (4 * n + 64 + 63) & ~63;
}

/** Bytes of the space's own scratch (the kernels' temporaries, e.g. tanhForward's 40 per value of a block of 64). */
const SCRATCH_BYTES = 4096;

export class LayerSpace {
  readonly fn: LayerExports;
  readonly buffer: ArrayBuffer;
  /** Byte address of the kernels' scratch. */
  readonly scratch: number;
  private top: number;
  private readonly end: number;

  /** A space of `bytes` bytes of arrays (the sum of arrayBytes of everything that will be allocated). */
  constructor(module: object, bytes: number) {
    const api = wasmApi!;
    this.scratch = (layoutBase(module) + 63) & ~63;
    this.top = this.scratch + SCRATCH_BYTES;
    this.end = this.top + bytes;
    const pages = Math.ceil(this.end / PAGE);
    const memory = new api.Memory({ initial: pages, maximum: pages });
    this.buffer = memory.buffer;
    const instance = new api.Instance(module, { env: { memory, zigTail: (): number => 0 } });
    this.fn = instance.exports as unknown as LayerExports;
  }

  private take(n: number): number {
    const at = this.top;
    this.top += arrayBytes(n);
    if (this.top > this.end) throw new Error('LayerSpace: more arrays than the space was sized for');
    return at;
  }

  f32(n: number): Float32Array {
    return new Float32Array(this.buffer, this.take(n), n);
  }

  i32(n: number): Int32Array {
    return new Int32Array(this.buffer, this.take(n), n);
  }

  /** The byte address of `a` in this space, or -1 when it lives elsewhere. */
  at(a: Float32Array | Int32Array): number {
    return a.buffer === this.buffer ? a.byteOffset : -1;
  }
}
