/**
 * A 64-bit FNV-1a digest (two 32-bit halves, pure integer arithmetic) of typed-array bytes:
 * enough to tell whether two runs ended with bit-identical weights. Not cryptographic.
 */
export function digestFloat32(values: Float32Array): string {
  const bytes = new Uint8Array(values.buffer, values.byteOffset, values.byteLength);
  // 64-bit FNV-1a with offset 0xcbf29ce484222325 and prime 0x100000001b3, in 16-bit limbs
  let h0 = 0x2325;
  let h1 = 0x8422;
  let h2 = 0x9ce4;
  let h3 = 0xcbf2;
  for (let i = 0; i < bytes.length; i++) {
    h0 ^= bytes[i];
    // multiply by 2^40 + 0x1b3: the 0x1b3 part on all limbs, the 2^40 part shifts h0 into h2/h3
    const t0 = h0 * 0x1b3;
    const t1 = h1 * 0x1b3;
    const t2 = h2 * 0x1b3 + (h0 << 8);
    const t3 = h3 * 0x1b3 + (h1 << 8);
    h0 = t0 & 0xffff;
    const c1 = t1 + (t0 >>> 16);
    h1 = c1 & 0xffff;
    const c2 = t2 + (c1 >>> 16);
    h2 = c2 & 0xffff;
    h3 = (t3 + (c2 >>> 16)) & 0xffff;
  }
  const hex = (v: number): string => v.toString(16).padStart(4, '0');
  return hex(h3) + hex(h2) + hex(h1) + hex(h0);
}
