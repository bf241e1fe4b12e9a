// Builds the WebAssembly kernels: assembly/pulse.ts (pulsed update, its stages in assembly/pulse/),
// assembly/matmul.ts (forward / backward products), assembly/digital.ts (digital updates),
// assembly/composite.ts (the composite algorithms' effective weights) and assembly/layers.ts (the
// network modules' loops) -> one module, build/kernels.wasm (AssemblyScript).
// `node assembly/build.mjs` rebuilds only when the .wasm is missing or older than a source here
// (assembly/ and its folders); `--force` always rebuilds. Run by `npm run build:wasm`, `prepare`
// (npm ci) and `pretest`.
import { existsSync, mkdirSync, readdirSync, statSync } from 'node:fs';
import process from 'node:process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const root = dirname(here);
const out = join(root, 'build', 'kernels.wasm');
const sources = readdirSync(here, { recursive: true })
  .filter((f) => f.endsWith('.ts'))
  .map((f) => join(here, f));

const stale = !existsSync(out) || sources.some((f) => statSync(f).mtimeMs > statSync(out).mtimeMs);
if (process.argv.includes('--force') || stale) {
  const asc = await import('assemblyscript/asc');
  mkdirSync(dirname(out), { recursive: true });
  // the entries: their exports are the module's (assembly/pulse/ is reached through pulse.ts)
  const entries = ['pulse.ts', 'matmul.ts', 'digital.ts', 'composite.ts', 'layers.ts'].map((f) => join(here, f));
  const options = ['-O3', '--noAssert', '--runtime', 'stub', '--importMemory', '--noExportMemory'];
  const args = [...entries, ...options, '--enable', 'simd', '--use', 'abort=', '-o', out];
  const { error } = await asc.main(args, { stdout: process.stdout, stderr: process.stderr });
  if (error) {
    process.stderr.write(`assembly/build.mjs: ${error.message}\n`);
    process.exit(1);
  }
  process.stdout.write(`built ${out}\n`);
}
