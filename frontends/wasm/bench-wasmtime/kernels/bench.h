/* Freestanding harness for the Benchmarks Game kernels (revised BSD, see
 * the header of each program): no libc. Output goes byte by byte through
 * an imported `env.putchar`; the entry point is the exported `run(n)`.
 * Built as wasm32 (`clang-19 --target=wasm32 -O2 -nostdlib`) and, for the
 * native limit, with `gcc -O2 -DNATIVE`, where `main` calls `run`. */
#ifndef BENCH_H
#define BENCH_H

#ifdef NATIVE
#include <stdio.h>
#include <stdlib.h>
static void out(int c) { putchar(c); }
#define EXPORT
#else
__attribute__((import_module("env"), import_name("putchar"))) void env_putchar(int c);
static void out(int c) { env_putchar(c); }
#define EXPORT __attribute__((export_name("run")))
/* What clang emits calls to for struct and array copies (no bulk memory). */
__attribute__((no_builtin("memcpy"))) void *memcpy(void *d, const void *s, unsigned long n) {
    unsigned char *dp = d;
    const unsigned char *sp = s;
    while (n--) *dp++ = *sp++;
    return d;
}
__attribute__((no_builtin("memmove"))) void *memmove(void *d, const void *s, unsigned long n) {
    unsigned char *dp = d;
    const unsigned char *sp = s;
    if (dp < sp) {
        while (n--) *dp++ = *sp++;
    } else {
        while (n--) dp[n] = sp[n];
    }
    return d;
}
#endif

static void out_str(const char *s) {
    while (*s) out(*s++);
}

static void out_u64(unsigned long long v, int min_digits) {
    char buf[24];
    int n = 0;
    do {
        buf[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v || n < min_digits);
    while (n) out(buf[--n]);
}

static void out_int(long long v) {
    if (v < 0) {
        out('-');
        v = -v;
    }
    out_u64((unsigned long long)v, 1);
}

/* printf("%.9f"), rounding half up on the scaled value. */
static void out_f9(double x) {
    if (x < 0) {
        out('-');
        x = -x;
    }
    unsigned long long scaled = (unsigned long long)(x * 1e9 + 0.5);
    out_u64(scaled / 1000000000ull, 1);
    out('.');
    out_u64(scaled % 1000000000ull, 9);
}

EXPORT int run(int n);

#ifdef NATIVE
int main(int argc, char **argv) {
    int r = run(argc > 1 ? atoi(argv[1]) : 10);
    fflush(stdout);
    return r;
}
#endif

#endif
