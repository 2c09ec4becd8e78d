// The Computer Language Benchmarks Game
// https://salsa.debian.org/benchmarksgame-team/benchmarksgame/
//
// binary-trees, concurrent, with the algorithm of Toy's
// examples/binarytrees_spawn.toy: each depth's iterations are split across 8
// goroutines, all started before any result is read; the stretch and
// long-lived trees are built on the main goroutine. Based on the Benchmarks
// Game's Go programs (Revised BSD licence, see
// ../examples/LICENSE-benchmarksgame.txt).
package main

import (
	"fmt"
	"os"
	"strconv"
	"sync"
)

type Node struct {
	left, right *Node
}

func bottomUpTree(depth int) *Node {
	if depth <= 0 {
		return &Node{}
	}
	return &Node{bottomUpTree(depth - 1), bottomUpTree(depth - 1)}
}

func itemCheck(n *Node) int {
	if n.left == nil {
		return 1
	}
	return 1 + itemCheck(n.left) + itemCheck(n.right)
}

func checkTrees(depth, count int) int {
	check := 0
	for i := 0; i < count; i++ {
		check += itemCheck(bottomUpTree(depth))
	}
	return check
}

const parts = 8

func main() {
	n := 0
	if len(os.Args) > 1 {
		n, _ = strconv.Atoi(os.Args[1])
	}
	minDepth := 4
	maxDepth := n
	if minDepth+2 > n {
		maxDepth = minDepth + 2
	}
	stretchDepth := maxDepth + 1
	fmt.Printf("stretch tree of depth %d\t check: %d\n", stretchDepth, itemCheck(bottomUpTree(stretchDepth)))
	longLived := bottomUpTree(maxDepth)

	depths := (maxDepth-minDepth)/2 + 1
	results := make([]int, depths*parts)
	var wg sync.WaitGroup
	for d := 0; d < depths; d++ {
		depth := minDepth + 2*d
		iterations := 1 << uint(maxDepth-depth+minDepth)
		for p := 0; p < parts; p++ {
			share := iterations / parts
			if p < iterations%parts {
				share++
			}
			wg.Add(1)
			go func(slot, depth, share int) {
				defer wg.Done()
				results[slot] = checkTrees(depth, share)
			}(d*parts+p, depth, share)
		}
	}
	wg.Wait()
	for d := 0; d < depths; d++ {
		depth := minDepth + 2*d
		iterations := 1 << uint(maxDepth-depth+minDepth)
		check := 0
		for p := 0; p < parts; p++ {
			check += results[d*parts+p]
		}
		fmt.Printf("%d\t trees of depth %d\t check: %d\n", iterations, depth, check)
	}
	fmt.Printf("long lived tree of depth %d\t check: %d\n", maxDepth, itemCheck(longLived))
}
