#define _POSIX_C_SOURCE 199309L
// aimc-sweep's C reference kernel of the stochastic-pulse rank-1 update, the yardstick of the
// benchmark (`npm run bench -- kernels`; bench/kernels.ts compiles it with
// `cc -O3 -march=native bench/pulsed-update-ref.c -lm` into bench/.build/ and runs it).
//
// It is a plain, unvectorised C loop of the update that a tile applies to a constant-step device
// without noise or variation (docs/science.md §3.2, §6):
//   - update management and BL management as in src/core/pulse-trains.ts (aihwkit's
//     StochasticCompressed scheme): k = lr xmax dmax / dw_min, BL = min(ceil(k), 31) with BL
//     management (else 31), A = B = sqrt(lr / (dw_min BL)), the d side clipped when k > 31,
//     A *= sqrt(xmax / dmax), B *= sqrt(dmax / xmax);
//   - one BL-bit train per line (a uint32 mask; bit k set with probability min(1, scale |v|));
//   - coincidences n = popcount(dbits_i & xbits_j); w += n * dw_min (1 + asym) where d_i and x_j
//     have opposite signs, w -= n * dw_min (1 - asym) where they agree (the asymmetry convention
//     of docs/science.md §2.4); clip to [-1, 1].
// The data have the distributions bench/kernels.ts uses: x and d uniform in [-1, 1], W uniform
// in [-0.3, 0.3], mini-batches of 100 samples, dw_min 0.001. It measures speed, not bits: its random numbers
// (an inline xoshiro128+, or libc rand() with -DUSE_LIBC_RAND) are not the simulator's streams,
// so its weights differ from a tile's while the pulse statistics are the same.
//
// Usage: pulsed-update-ref d_size x_size lr ublm reps [asym]
// Prints one line "RESULT ... ns_per_weight_sample=<median ns per weight and sample> ..." (the
// first of reps + 1 repetitions is a warm-up) and one line "INFO w_mean=... w_rms=...".
// -DCOUNT_PULSES also prints the pulses per weight and sample.
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static uint32_t s0 = 0x9E3779B9u, s1 = 0x243F6A88u, s2 = 0xB7E15162u, s3 = 0x12345678u;
static inline uint32_t rotl(uint32_t x, int k) { return (x << k) | (x >> (32 - k)); }
static inline uint32_t xoshiro128p(void) {
  uint32_t r = s0 + s3, t = s1 << 9;
  s2 ^= s0; s3 ^= s1; s1 ^= s2; s0 ^= s3; s2 ^= t; s3 = rotl(s3, 11);
  return r;
}
static inline float uniform01(void) {
#ifdef USE_LIBC_RAND
  return (float)rand() / (float)RAND_MAX;
#else
  return (float)(xoshiro128p() >> 8) * (1.0f / 16777216.0f);
#endif
}

static double now_us(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1e6 + ts.tv_nsec * 1e-3;
}
static int cmpd(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

// make pulse trains: bits[j] has bit k set with prob min(1, P*|v_j|); neg[j] = sign bit
static void make_trains(const float *v, int n, float P, int BL, uint32_t *bits, uint32_t *neg) {
  for (int j = 0; j < n; j++) {
    float p = fabsf(v[j]) * P;
    uint32_t b = 0;
    if (p > 0.f)
      for (int k = 0; k < BL; k++) b |= (uint32_t)(p > uniform01()) << k;
    bits[j] = b;
    neg[j] = v[j] < 0.f ? 0xFFFFFFFFu : 0u;
  }
}

int main(int argc, char **argv) {
  if (argc < 6) {
    fprintf(stderr, "usage: %s d_size x_size lr ublm reps [asym]\n", argv[0]);
    return 1;
  }
  int d_size = atoi(argv[1]), x_size = atoi(argv[2]);
  float lr = atof(argv[3]);
  int ublm = atoi(argv[4]), reps = atoi(argv[5]);
  float asym = argc > 6 ? atof(argv[6]) : 0.0f;
  const int m_batch = 100, desired_BL = 31;
  const float dw_min = 0.001f;
  const float dw_down = dw_min * (1.f - asym), dw_up = dw_min * (1.f + asym);

  int nb = reps + 1;
  float *X = malloc(sizeof(float) * (size_t)nb * m_batch * x_size);
  float *D = malloc(sizeof(float) * (size_t)nb * m_batch * d_size);
  float *W = malloc(sizeof(float) * (size_t)d_size * x_size);
  uint32_t *xb = malloc(4 * x_size), *xn = malloc(4 * x_size);
  uint32_t *db = malloc(4 * d_size), *dn = malloc(4 * d_size);
  srand(1);
  for (size_t i = 0; i < (size_t)nb * m_batch * x_size; i++) X[i] = 2.f * xoshiro128p() / 4294967296.f - 1.f;
  for (size_t i = 0; i < (size_t)nb * m_batch * d_size; i++) D[i] = 2.f * xoshiro128p() / 4294967296.f - 1.f;
  for (size_t i = 0; i < (size_t)d_size * x_size; i++) W[i] = 0.6f * xoshiro128p() / 4294967296.f - 0.3f;

#ifdef COUNT_PULSES
  long long n_pulses = 0;
#endif
  double *ts = malloc(sizeof(double) * nb), *tg = malloc(sizeof(double) * nb);
  for (int r = 0; r < nb; r++) {
    double t_gen = 0;
    double t0 = now_us();
    for (int s = 0; s < m_batch; s++) {
      const float *x = X + ((size_t)r * m_batch + s) * x_size;
      const float *d = D + ((size_t)r * m_batch + s) * d_size;
      // update management (as aihwkit performUpdateManagement, fixed_BL=true, um_grad_scale=1)
      float xmax = 0, dmax = 0;
      for (int j = 0; j < x_size; j++) xmax = fmaxf(xmax, fabsf(x[j]));
      for (int i = 0; i < d_size; i++) dmax = fmaxf(dmax, fabsf(d[i]));
      if (xmax == 0.f || dmax == 0.f) continue;
      int BL = desired_BL;
      float k_val = lr * xmax * dmax / dw_min;
      float A, B, d_val = dmax;
      if (ublm) {
        BL = (int)ceilf(k_val);
        if (BL > desired_BL) BL = desired_BL;
      }
      A = B = sqrtf(lr / (dw_min * BL));
      if (k_val > (float)desired_BL) d_val *= (float)desired_BL / k_val;
      A *= sqrtf(xmax / d_val);
      B *= sqrtf(d_val / xmax);
      double tg0 = now_us();
      make_trains(x, x_size, B, BL, xb, xn);
      make_trains(d, d_size, A, BL, db, dn);
      t_gen += now_us() - tg0;
      // coincidences + constant-step update with clipping
      for (int i = 0; i < d_size; i++) {
        uint32_t dbi = db[i], dni = dn[i];
        if (!dbi) continue;
        float *w = W + (size_t)i * x_size;
        for (int j = 0; j < x_size; j++) {
          int n = __builtin_popcount(dbi & xb[j]);
#ifdef COUNT_PULSES
          n_pulses += n;
#endif
          // same sign (x*d > 0) -> decrease by dw_down, else increase by dw_up
          float step = (dni ^ xn[j]) ? dw_up : -dw_down;
          float v = w[j] + (float)n * step;
          v = v > 1.f ? 1.f : v;
          v = v < -1.f ? -1.f : v;
          w[j] = v;
        }
      }
    }
    ts[r] = now_us() - t0;
    tg[r] = t_gen;
  }
  double tsm[64], tgm[64];
  int n = 0;
  for (int r = 1; r < nb && n < 64; r++, n++) { tsm[n] = ts[r]; tgm[n] = tg[r]; }
  double all[64];
  memcpy(all, tsm, sizeof(double) * n);
  qsort(tsm, n, sizeof(double), cmpd);
  qsort(tgm, n, sizeof(double), cmpd);
  double med = n % 2 ? tsm[n / 2] : 0.5 * (tsm[n / 2 - 1] + tsm[n / 2]);
  double medg = n % 2 ? tgm[n / 2] : 0.5 * (tgm[n / 2 - 1] + tgm[n / 2]);
  double N = (double)d_size * x_size;
  printf("RESULT op=u dev=naive%s out=%d in=%d lr=%g ublm=%d reps=%d batch_us_med=%.1f "
         "us_per_sample=%.3f ns_per_weight_sample=%.3f trains_us_per_sample=%.3f all=",
#ifdef USE_LIBC_RAND
         "_librand",
#else
         "_xoshiro",
#endif
         d_size, x_size, lr, ublm, n, med, med / m_batch, med / m_batch * 1000.0 / N, medg / m_batch);
  for (int i = 0; i < n; i++) printf("%.0f,", all[i]);
  printf("\n");
  double sw = 0, sw2 = 0;
  for (size_t i = 0; i < (size_t)N; i++) { sw += W[i]; sw2 += W[i] * W[i]; }
#ifdef COUNT_PULSES
  printf("INFO pulses/weight/sample = %.3f\n", (double)n_pulses / ((double)nb * m_batch * d_size * x_size));
#endif
  printf("INFO w_mean=%.4g w_rms=%.4g\n", sw / N, sqrt(sw2 / N));
  return 0;
}
