/**
 * WebAssembly (SIMD) kernel of the stochastic-pulse rank-1 update: the bit-identical twin of the
 * TypeScript reference in src/core/tile.ts, src/core/pulse-trains.ts, src/core/normal-stream.ts
 * (NormalStream) and src/core/devices/{constant-step,affine-response}.ts. Every formula in
 * assembly/pulse/ mirrors one there, op for op (float32 where they use Math.fround, float64 where
 * they use numbers); change both together, test/kernel.test.ts compares them bit for bit.
 *
 * One instance per tile, on a memory the tile allocates up front (src/core/kernels/
 * pulse-kernel.ts): `init` reads the addresses of the tile's arrays from a control block there.
 * No allocation, no runtime; the one import is the ziggurat's rare base-strip tail, which runs in
 * TypeScript on the tail generator whose state lives in this memory.
 *
 * This file is the entry build.mjs compiles: the functions the tile calls (KernelExports of
 * pulse-kernel.ts). They and what they run are in assembly/pulse/, a file per stage:
 *   layout.ts          the control block, fixed addresses and kernel modes; init, heapBase
 *   normal-stream.ts   the normals' ziggurat on four xoshiro128** lanes; refill
 *   trains.ts          thresholds, the pulse generator's words, the x trains
 *   rows-constant.ts   constant step without noise: n steps at once per weight
 *   rows-rounds.ts     the pulse-one-by-one rows (constant step with noise, affine devices)
 *   rows-closed.ts     the closed-form rows (n pulses at once with one normal)
 *   rows-sparse.ts     the pulse-one-by-one rows when few columns fire
 *   update.ts          update (trains, then rows) and updateBatch (update management); setTrainsOnly
 */

export { setTrainsOnly, update, updateBatch } from './pulse/update';
export { heapBase, init } from './pulse/layout';
export { refill } from './pulse/normal-stream';
