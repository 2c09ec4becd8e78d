/* Hot replacement from C: a thread calls `f` through its stable entry in a
 * loop while the main thread publishes new bodies of `f` (generations). The
 * caller must only ever see whole versions, never going back; each publish
 * reports its unit and generation, the registry follows, the replaced units
 * are retired, a veto keeps them, and once the caller has stopped they are
 * reclaimed. Run by capi/tests/c_api.rs under the sanitizers. */
#define _POSIX_C_SOURCE 200809L
#include "cfree.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"

#define VERSIONS 12

typedef int64_t (*fn_i64)(int64_t);

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static int stop = 0;
static int64_t seen = 0; /* the newest version the caller has seen */
static long calls = 0;
static fn_i64 f;

static void *caller(void *arg) {
    int64_t last = 0, x = 0;
    long n = 0;
    (void)arg;
    for (;;) {
        int64_t r, v;
        pthread_mutex_lock(&lock);
        if (stop) {
            pthread_mutex_unlock(&lock);
            break;
        }
        pthread_mutex_unlock(&lock);
        x = (x + 7) % 1000;
        r = f(x);
        v = r - x * 1000; /* f_v(x) = x * 1000 + v */
        REQUIRE(v >= 1 && v <= VERSIONS, "f(%lld) = %lld is no version", (long long)x, (long long)r);
        REQUIRE(v >= last, "went back from version %lld to %lld", (long long)last, (long long)v);
        last = v;
        n++;
        pthread_mutex_lock(&lock);
        seen = v;
        pthread_mutex_unlock(&lock);
    }
    pthread_mutex_lock(&lock);
    calls = n;
    pthread_mutex_unlock(&lock);
    return NULL;
}

/* A module defining `f(x) = x * 1000 + version`. */
static cfree_module version(int64_t v) {
    cfree_module m;
    cfree_type i64, sig;
    cfree_sym s;
    cfree_local x;
    char name[32];
    snprintf(name, sizeof name, "f_v%lld", (long long)v);
    CHECK(cfree_cg_module_new(name, NULL, &m));
    CHECK(cfree_cg_ty_int(m, 64, &i64));
    CHECK(cfree_cg_ty_func(m, &i64, 1, 1, i64, 0, &sig));
    CHECK(cfree_cg_declare_func(m, "f", sig, CFREE_LINKAGE_EXTERNAL, &s));
    CHECK(cfree_cg_func_begin(m, s));
    CHECK(cfree_cg_param_slot(m, 0, "x", &x));
    CHECK(cfree_cg_push_local(m, x));
    CHECK(cfree_cg_load(m, i64, 0));
    CHECK(cfree_cg_push_int(m, i64, 1000));
    CHECK(cfree_cg_int_op(m, CFREE_INT_MUL, 0));
    CHECK(cfree_cg_push_int(m, i64, v));
    CHECK(cfree_cg_int_op(m, CFREE_INT_ADD, 0));
    CHECK(cfree_cg_ret(m));
    CHECK(cfree_cg_func_end(m));
    return m;
}

static int keep_all = 1;
static int vetoes = 0;

static int veto(void *ctx, uint64_t unit, uint64_t generation) {
    int *keep = ctx;
    (void)unit;
    (void)generation;
    vetoes++;
    return *keep;
}

int main(void) {
    cfree_jit jit;
    cfree_published pub;
    cfree_symbol_info sym;
    cfree_unit_info ui;
    cfree_function_info fi;
    cfree_publish_stats stats;
    uint64_t units[VERSIONS + 1], reclaimed[VERSIONS], gen0, g;
    size_t n, i;
    const void *a;
    pthread_t t;
    char name[64];
    int64_t v;

    CHECK(cfree_abi_check(CFREE_VERSION));
    CHECK(cfree_jit_new(&jit));
    CHECK(cfree_jit_generation(jit, &gen0));
    CHECK(cfree_jit_publish_ex(jit, version(1), CFREE_O1, &pub));
    REQUIRE(pub.generation == gen0 + 1 && pub.replaced == 0, "first publish: generation %llu, %zu replaced",
            (unsigned long long)pub.generation, pub.replaced);
    units[1] = pub.unit;
    CHECK(cfree_jit_lookup(jit, "f", &a));
    memcpy(&f, &a, sizeof f);
    REQUIRE(f(3) == 3001, "f(3) = %lld", (long long)f(3));

    REQUIRE(pthread_create(&t, NULL, caller, NULL) == 0, "pthread_create");
    for (v = 2; v <= VERSIONS; v++) {
        int64_t s;
        CHECK(cfree_jit_publish_ex(jit, version(v), v % 2 ? CFREE_O0 : CFREE_O2, &pub));
        REQUIRE(pub.replaced == 1, "version %lld replaced %zu functions", (long long)v, pub.replaced);
        REQUIRE(pub.generation == gen0 + (uint64_t)v, "version %lld is generation %llu", (long long)v,
                (unsigned long long)pub.generation);
        units[v] = pub.unit;
        CHECK(cfree_jit_symbol_info(jit, "f", &sym));
        REQUIRE(sym.unit == pub.unit && sym.generation == pub.generation && sym.entry == (uint64_t)(uintptr_t)a,
                "the registry does not show version %lld as active", (long long)v);
        CHECK(cfree_jit_unit_info(jit, units[v - 1], &ui));
        REQUIRE(ui.state == CFREE_UNIT_REPLACED && ui.nactive_exports == 0, "unit of version %lld: state %d",
                (long long)(v - 1), ui.state);
        /* Wait until the caller runs the new version (it must, through the same entry). */
        do {
            pthread_mutex_lock(&lock);
            s = seen;
            pthread_mutex_unlock(&lock);
        } while (s < v);
    }
    pthread_mutex_lock(&lock);
    stop = 1;
    pthread_mutex_unlock(&lock);
    pthread_join(t, NULL);
    REQUIRE(calls >= VERSIONS, "only %ld calls", calls);
    REQUIRE(f(5) == 5000 + VERSIONS, "f(5) = %lld after the last version", (long long)f(5));
    CHECK(cfree_jit_generation(jit, &g));
    REQUIRE(g == gen0 + VERSIONS, "generation %llu", (unsigned long long)g);

    /* The active body is a function of the last unit, named after it. */
    CHECK(cfree_jit_symbol_info(jit, "f", &sym));
    CHECK(cfree_jit_function_at(jit, sym.body, &fi));
    REQUIRE(fi.unit == units[VERSIONS] && fi.start == sym.body && fi.end > fi.start, "function_at(body)");
    CHECK(cfree_jit_function_name_at(jit, sym.body, name, sizeof name, &n));
    REQUIRE(strncmp(name, "f.cfree.u", 9) == 0 && n == strlen(name), "body name %s", name);
    REQUIRE(cfree_jit_function_at(jit, 16, &fi) == CFREE_ERR_NOT_FOUND, "a PC outside the JIT");

    /* Retire the replaced units; an active one cannot be. */
    REQUIRE(cfree_jit_retire(jit, units[VERSIONS]) == 12, "retiring the active unit: %d", cfree_error_code());
    for (v = 1; v < VERSIONS; v++) {
        CHECK(cfree_jit_retire(jit, units[v]));
    }
    CHECK(cfree_jit_add_reclaim_veto(jit, veto, &keep_all));
    CHECK(cfree_jit_reclaim(jit, reclaimed, VERSIONS, &n));
    REQUIRE(n == 0 && vetoes == VERSIONS - 1, "the veto kept %zu of %d (asked %d times)", VERSIONS - 1 - n,
            VERSIONS - 1, vetoes);
    keep_all = 0;
    CHECK(cfree_jit_reclaim(jit, reclaimed, VERSIONS, &n));
    REQUIRE(n == VERSIONS - 1, "reclaimed %zu", n);
    for (i = 0; i < n; i++) {
        CHECK(cfree_jit_unit_info(jit, reclaimed[i], &ui));
        REQUIRE(ui.state == CFREE_UNIT_RECLAIMED && ui.code_bytes == 0, "unit %llu state %d",
                (unsigned long long)reclaimed[i], ui.state);
    }
    REQUIRE(f(9) == 9000 + VERSIONS, "f after reclaiming");
    CHECK(cfree_jit_publish_stats(jit, &stats));
    REQUIRE(stats.published == VERSIONS && stats.failed == 0, "stats %llu/%llu", (unsigned long long)stats.published,
            (unsigned long long)stats.failed);
    CHECK(cfree_jit_free(jit));
    printf("replace ok\n");
    return 0;
}
