/**
 * Float32 <-> float64 lane helpers shared by the kernels that compute in float64 what JavaScript
 * computes on float32 arrays (matmul.ts, digital.ts, composite.ts): lo2 / hi2 promote lanes 0-1 /
 * 2-3 of a float32x4 (exact), demote4 packs two f64x2 back into one float32x4 (one rounding each).
 */

@inline export function lo2(v: v128): v128 {
  return f64x2.promote_low_f32x4(v);
}
@inline export function hi2(v: v128): v128 {
  return f64x2.promote_low_f32x4(v128.shuffle<i32>(v, v, 2, 3, 2, 3));
}
@inline export function demote4(lo: v128, hi: v128): v128 {
  return v128.shuffle<i32>(f32x4.demote_f64x2_zero(lo), f32x4.demote_f64x2_zero(hi), 0, 1, 4, 5);
}
