// The Computer Language Benchmarks Game
// https://salsa.debian.org/benchmarksgame-team/benchmarksgame/
//
// binary-trees: binarytrees.go (contributed by The Go Authors, based on the C
// program by Kevin Carson) ported to Java line by line, single-threaded, for
// the memory comparison in doc/performance.md. Revised BSD licence (see
// frontends/toy/examples/LICENSE-benchmarksgame.txt).

public final class BinaryTrees {
    static final class Node {
        Node left, right;

        Node(Node left, Node right) {
            this.left = left;
            this.right = right;
        }
    }

    static Node bottomUpTree(int depth) {
        if (depth <= 0) {
            return new Node(null, null);
        }
        return new Node(bottomUpTree(depth - 1), bottomUpTree(depth - 1));
    }

    static int itemCheck(Node n) {
        if (n.left == null) {
            return 1;
        }
        return 1 + itemCheck(n.left) + itemCheck(n.right);
    }

    static final int MIN_DEPTH = 4;

    public static void main(String[] args) {
        int n = args.length > 0 ? Integer.parseInt(args[0]) : 0;
        int maxDepth = n;
        if (MIN_DEPTH + 2 > n) {
            maxDepth = MIN_DEPTH + 2;
        }
        int stretchDepth = maxDepth + 1;

        int check = itemCheck(bottomUpTree(stretchDepth));
        System.out.printf("stretch tree of depth %d\t check: %d\n", stretchDepth, check);

        Node longLivedTree = bottomUpTree(maxDepth);

        for (int depth = MIN_DEPTH; depth <= maxDepth; depth += 2) {
            int iterations = 1 << (maxDepth - depth + MIN_DEPTH);
            check = 0;
            for (int i = 1; i <= iterations; i++) {
                check += itemCheck(bottomUpTree(depth));
            }
            System.out.printf("%d\t trees of depth %d\t check: %d\n", iterations, depth, check);
        }
        System.out.printf("long lived tree of depth %d\t check: %d\n", maxDepth, itemCheck(longLivedTree));
    }
}
