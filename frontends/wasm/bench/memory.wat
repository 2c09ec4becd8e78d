;; Memory-bound kernels for measuring the cost of explicit bounds checks
;; (doc/wasm.md, "Measured"): `cfree-wasm run [--no-bounds-checks] memory.wat --invoke NAME ARGS`.
(module
  (memory 256)  ;; 16 MiB

  ;; Number of primes below $n (n <= 16 MiB) by the sieve of Eratosthenes, one byte per number.
  (func (export "sieve") (param $n i32) (param $reps i32) (result i32)
    (local $i i32) (local $j i32) (local $count i32) (local $r i32)
    (loop $rep
      (local.set $i (i32.const 0))
      (loop $clear
        (i32.store8 (local.get $i) (i32.const 0))
        (br_if $clear (i32.lt_u (local.tee $i (i32.add (local.get $i) (i32.const 1))) (local.get $n))))
      (local.set $count (i32.const 0))
      (local.set $i (i32.const 2))
      (loop $outer
        (if (i32.eqz (i32.load8_u (local.get $i)))
          (then
            (local.set $count (i32.add (local.get $count) (i32.const 1)))
            (local.set $j (i32.mul (local.get $i) (local.get $i)))
            (block $done
              (br_if $done (i32.ge_u (local.get $j) (local.get $n)))
              (br_if $done (i32.gt_u (local.get $i) (i32.const 65535)))
              (loop $inner
                (i32.store8 (local.get $j) (i32.const 1))
                (br_if $inner (i32.lt_u (local.tee $j (i32.add (local.get $j) (local.get $i))) (local.get $n)))))))
        (br_if $outer (i32.lt_u (local.tee $i (i32.add (local.get $i) (i32.const 1))) (local.get $n))))
      (br_if $rep (i32.lt_u (local.tee $r (i32.add (local.get $r) (i32.const 1))) (local.get $reps))))
    (local.get $count))

  ;; Fills $n i32s with i * 7, then sums them $reps times (wrapping), element 0 set to the round first.
  (func (export "sum") (param $n i32) (param $reps i32) (result i32)
    (local $i i32) (local $s i32) (local $r i32)
    (loop $fill
      (i32.store (i32.shl (local.get $i) (i32.const 2)) (i32.mul (local.get $i) (i32.const 7)))
      (br_if $fill (i32.lt_u (local.tee $i (i32.add (local.get $i) (i32.const 1))) (local.get $n))))
    (loop $rep
      ;; a store per round keeps LLVM from computing one round and scaling it
      (i32.store (i32.const 0) (local.get $r))
      (local.set $i (i32.const 0))
      (loop $add
        (local.set $s (i32.add (local.get $s) (i32.load (i32.shl (local.get $i) (i32.const 2)))))
        (br_if $add (i32.lt_u (local.tee $i (i32.add (local.get $i) (i32.const 1))) (local.get $n))))
      (br_if $rep (i32.lt_u (local.tee $r (i32.add (local.get $r) (i32.const 1))) (local.get $reps))))
    (local.get $s))
)
