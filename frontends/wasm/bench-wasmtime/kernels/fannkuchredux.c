/* The Computer Language Benchmarks Game, fannkuch-redux (converted to C by
 * Joseph Piché from the Java version by Oleg Mazurov and Isaac Gouy);
 * revised BSD. Freestanding: fixed arrays (n <= 16), output through bench.h. */
#include "bench.h"

static int max(int a, int b) { return a > b ? a : b; }

static int fannkuchredux(int n) {
    int perm[16], perm1[16], count[16];
    int maxFlipsCount = 0, permCount = 0, checksum = 0;
    int i;
    for (i = 0; i < n; i += 1) perm1[i] = i;
    int r = n;
    while (1) {
        while (r != 1) {
            count[r - 1] = r;
            r -= 1;
        }
        for (i = 0; i < n; i += 1) perm[i] = perm1[i];
        int flipsCount = 0;
        int k;
        while (!((k = perm[0]) == 0)) {
            int k2 = (k + 1) >> 1;
            for (i = 0; i < k2; i++) {
                int temp = perm[i];
                perm[i] = perm[k - i];
                perm[k - i] = temp;
            }
            flipsCount += 1;
        }
        maxFlipsCount = max(maxFlipsCount, flipsCount);
        checksum += permCount % 2 == 0 ? flipsCount : -flipsCount;
        while (1) {
            if (r == n) {
                out_int(checksum);
                out('\n');
                return maxFlipsCount;
            }
            int perm0 = perm1[0];
            i = 0;
            while (i < r) {
                int j = i + 1;
                perm1[i] = perm1[j];
                i = j;
            }
            perm1[r] = perm0;
            count[r] = count[r] - 1;
            if (count[r] > 0) break;
            r++;
        }
        permCount++;
    }
}

int run(int n) {
    if (n > 16) n = 16;
    int flips = fannkuchredux(n);
    out_str("Pfannkuchen(");
    out_int(n);
    out_str(") = ");
    out_int(flips);
    out('\n');
    return 0;
}
