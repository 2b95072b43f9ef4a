;; memory-bomb (hostile): grows its memory a megabyte at a time, touching
;; every page, until growing fails, then traps. It must be stopped at its
;; memory limit.

(data (i32.const 2048) "allocating\n")

(func (export "_start")
  (local $p i32) (local $end i32) (local $old i32)
  (call $print (i32.const 2048) (i32.const 11))
  (loop $more
    (local.set $old (memory.grow (i32.const 16)))
    (if (i32.eq (local.get $old) (i32.const -1)) (then (unreachable)))
    (local.set $p (i32.shl (local.get $old) (i32.const 16)))
    (local.set $end (i32.add (local.get $p) (i32.const 1048576)))
    (loop $touch
      (i32.store (local.get $p) (i32.const 1))
      (local.set $p (i32.add (local.get $p) (i32.const 4096)))
      (br_if $touch (i32.lt_u (local.get $p) (local.get $end))))
    (br $more)))
