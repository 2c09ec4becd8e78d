/* The Computer Language Benchmarks Game, spectral-norm (contributed by
 * Sebastien Loisel); revised BSD. Freestanding: static arrays instead of
 * VLAs (n <= MAXN), output through bench.h. */
#include "bench.h"

#define MAXN 8192

static double eval_A(int i, int j) { return 1.0 / ((i + j) * (i + j + 1) / 2 + i + 1); }

static void eval_A_times_u(int N, const double u[], double Au[]) {
    for (int i = 0; i < N; i++) {
        Au[i] = 0;
        for (int j = 0; j < N; j++) Au[i] += eval_A(i, j) * u[j];
    }
}

static void eval_At_times_u(int N, const double u[], double Au[]) {
    for (int i = 0; i < N; i++) {
        Au[i] = 0;
        for (int j = 0; j < N; j++) Au[i] += eval_A(j, i) * u[j];
    }
}

static double tmp[MAXN];

static void eval_AtA_times_u(int N, const double u[], double AtAu[]) {
    eval_A_times_u(N, u, tmp);
    eval_At_times_u(N, tmp, AtAu);
}

static double u[MAXN], v[MAXN];

int run(int N) {
    if (N > MAXN) N = MAXN;
    for (int i = 0; i < N; i++) u[i] = 1;
    for (int i = 0; i < 10; i++) {
        eval_AtA_times_u(N, u, v);
        eval_AtA_times_u(N, v, u);
    }
    double vBv = 0, vv = 0;
    for (int i = 0; i < N; i++) {
        vBv += u[i] * v[i];
        vv += v[i] * v[i];
    }
    out_f9(__builtin_sqrt(vBv / vv));
    out('\n');
    return 0;
}
