/* Calls the suite's entry points named on the command line as
 * "name a b" triples and prints "name a b result" per call. Linked with the
 * object cfree-llvm emitted; its output is compared with the Rust oracle. */
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef int64_t (*entry_fn)(int64_t, int64_t);
#define ENTRY(n) int64_t n(int64_t, int64_t);
#define ENTRIES(X) X(t_fib) X(t_sum_loop) X(t_sieve_local) X(t_sieve_data) X(t_fnptr) X(t_reloc) \
    X(t_narrow) X(t_divrem) X(t_shifts) X(t_cmp) X(t_i128) X(t_record) \
    X(t_switch_dense) X(t_switch_sparse) X(t_select)
ENTRIES(ENTRY)
#define ROW(n) {#n, n},
static const struct { const char *name; entry_fn fn; } entries[] = { ENTRIES(ROW) };

int main(int argc, char **argv) {
    for (int i = 1; i + 2 < argc; i += 3) {
        entry_fn fn = NULL;
        for (size_t k = 0; k < sizeof entries / sizeof entries[0]; k++)
            if (strcmp(entries[k].name, argv[i]) == 0) fn = entries[k].fn;
        if (!fn) {
            fprintf(stderr, "unknown entry %s\n", argv[i]);
            return 2;
        }
        int64_t a = strtoll(argv[i + 1], NULL, 10), b = strtoll(argv[i + 2], NULL, 10);
        printf("%s %" PRId64 " %" PRId64 " %" PRId64 "\n", argv[i], a, b, fn(a, b));
    }
    return 0;
}
