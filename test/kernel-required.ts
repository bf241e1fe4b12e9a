/**
 * The kernel tests need the WebAssembly module that `npm ci` builds (package.json's prepare). A
 * missing or unloadable module fails them: one failing test names the cause and the file's
 * kernel tests skip with the same reason, so a broken build cannot pass as a green run of the
 * TypeScript paths alone. Only an explicit AIMC_SKIP_KERNEL_TESTS=1 turns the failure into skips.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { kernelModule, kernelNote } from '../src/core/kernels/loader.ts';

/** The `skip` option of the calling file's kernel tests: false when the module is loaded. */
export function kernelTestsSkip(): string | false {
  if (kernelModule() !== null) return false;
  const why = `WebAssembly kernel not available: ${kernelNote()}`;
  if (process.env.AIMC_SKIP_KERNEL_TESTS !== '1') {
    test('the WebAssembly kernel is built and loads', () => {
      assert.fail(`${why} (AIMC_SKIP_KERNEL_TESTS=1 skips the kernel tests instead)`);
    });
  }
  return why;
}
