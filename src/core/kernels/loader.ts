/**
 * Loads the WebAssembly kernels: one module, built from assembly/ (the pulsed update, the matrix
 * products, the digital updates, the network modules' loops) into build/kernels.wasm by
 * `npm run build:wasm`, which `prepare` and `pretest` run. The one place of the core that does
 * I/O: it reads the file once, on first use, and compiles it. When the file is missing or this
 * engine lacks WebAssembly SIMD, `kernelModule()` is null and every tile, matrix and module takes
 * its TypeScript path (the reference the kernels are tested against), with the same results.
 */
import { readFileSync } from 'node:fs';

/** The part of the WebAssembly JS API the kernels use (TypeScript's ES2022 lib has none). */
export interface WasmMemory {
  readonly buffer: ArrayBuffer;
}
export interface WasmInstance {
  readonly exports: Record<string, unknown>;
}
interface WasmApi {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: Record<string, Record<string, unknown>>) => WasmInstance;
  Memory: new (descriptor: { initial: number; maximum?: number }) => WasmMemory;
}

/** The engine's WebAssembly API, or null where there is none. */
export const wasmApi: WasmApi | null = (globalThis as unknown as { WebAssembly?: WasmApi }).WebAssembly ?? null;

// from src/core/kernels/ (run through tsx) and from dist/src/core/kernels/ (compiled)
const CANDIDATES = ['../../../build/kernels.wasm', '../../../../build/kernels.wasm'];

let loaded: { module: object | null; note: string } | null = null;

function load(): { module: object | null; note: string } {
  if (wasmApi === null) return { module: null, note: 'no WebAssembly in this engine' };
  let missing = true;
  for (const rel of CANDIDATES) {
    let bytes: Uint8Array;
    try {
      bytes = readFileSync(new URL(rel, import.meta.url));
    } catch {
      continue;
    }
    missing = false;
    try {
      return {
        module: new wasmApi.Module(bytes),
        note: `WebAssembly SIMD kernel (${new URL(rel, import.meta.url).pathname})`,
      };
    } catch (e) {
      return { module: null, note: `kernel does not compile here (no WebAssembly SIMD?): ${(e as Error).message}` };
    }
  }
  return { module: null, note: missing ? 'build/kernels.wasm not built (npm run build:wasm)' : 'kernel not loaded' };
}

/** The compiled module of every kernel, or null (then everything takes its TypeScript path). */
export function kernelModule(): object | null {
  loaded ??= load();
  return loaded.module;
}

/**
 * Which implementation a tile, matrix or network module takes: the kernels where they apply
 * ('auto', every run's), the TypeScript references ('typescript': the benchmark's same-bits
 * check, the tests), or the kernels or an error ('wasm'). Never changes the results.
 */
export type KernelChoice = 'auto' | 'typescript' | 'wasm';

/**
 * Smallest matrix that 'auto' gives the kernels: below, their fixed costs (a memory and an
 * instance per matrix, a call per update) outweigh their speed.
 */
export const KERNEL_MIN_WEIGHTS = 64;

/**
 * The kernel module for an object of `weights` weights under `choice`, or null for its
 * TypeScript path ('wasm' with no module is null too: the caller says why it cannot run).
 */
export function kernelFor(choice: KernelChoice, weights: number): object | null {
  if (choice === 'typescript' || (choice === 'auto' && weights < KERNEL_MIN_WEIGHTS)) return null;
  return kernelModule();
}

/** Whether the kernels loaded, and why not, for logs and the benchmark. */
export function kernelNote(): string {
  loaded ??= load();
  return loaded.note;
}

let heapBase = -1;

/**
 * Where a kernel instance's own layout may start in its memory: the module's static data ends
 * before (probed once, on a throwaway instance).
 */
export function layoutBase(module: object): number {
  if (heapBase < 0) {
    const api = wasmApi!;
    const probe = new api.Instance(module, { env: { memory: new api.Memory({ initial: 1 }), zigTail: () => 0 } });
    heapBase = (probe.exports as unknown as { heapBase(): number }).heapBase();
  }
  return heapBase;
}
