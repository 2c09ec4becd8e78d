/* Links with the object tests/c/flow.c writes: its constructor ran before
 * main (5 + 10), its data and function are reachable from C. */
#include <stdint.h>
#include <stdio.h>

extern int64_t aot_counter;
int64_t aot_get(void);
int64_t jump(int64_t);

int main(void) {
    int64_t direct = aot_counter;
    aot_counter += 100;
    int64_t x;
    printf("%lld %lld\n", (long long)direct, (long long)aot_get());
    for (x = 0; x < 6; x++) {
        printf("%lld%c", (long long)jump(x), x == 5 ? '\n' : ' ');
    }
    return 0;
}
