;; many-files (hostile): `many-files N` creates N empty files under
;; /outputs, each with a 200-byte name, then prints "created N". The names
;; and the entries must count against its output limit.

(data (i32.const 2048) "created\n")
(data (i32.const 2064) "usage: many-files N\n")

;; A 200-byte name at 3072: 190 'f's, then the file's number in 10 digits.
(func $name (param $n i32)
  (local $i i32)
  (memory.fill (i32.const 3072) (i32.const 102) (i32.const 190))
  (local.set $i (i32.const 3272))
  (loop $digit
    (local.set $i (i32.sub (local.get $i) (i32.const 1)))
    (i32.store8 (local.get $i) (i32.add (i32.const 48) (i32.rem_u (local.get $n) (i32.const 10))))
    (local.set $n (i32.div_u (local.get $n) (i32.const 10)))
    (br_if $digit (i32.gt_u (local.get $i) (i32.const 3262)))))

(func $number (param $p i32) (result i32)
  (local $n i32) (local $c i32)
  (loop $next
    (local.set $c (i32.load8_u (local.get $p)))
    (if (i32.lt_u (i32.sub (local.get $c) (i32.const 48)) (i32.const 10))
      (then
        (local.set $n (i32.add (i32.mul (local.get $n) (i32.const 10)) (i32.sub (local.get $c) (i32.const 48))))
        (local.set $p (i32.add (local.get $p) (i32.const 1)))
        (br $next))))
  (local.get $n))

(func (export "_start")
  (local $outputs i32) (local $count i32) (local $i i32) (local $fd i32)
  (call $load_args)
  (if (i32.ne (global.get $argc) (i32.const 2)) (then (call $fail (i32.const 2064) (i32.const 20))))
  (local.set $count (call $number (call $arg (i32.const 1))))
  (local.set $outputs (call $outputs_dir))
  (block $done
    (loop $each
      (br_if $done (i32.ge_u (local.get $i) (local.get $count)))
      (call $name (local.get $i))
      (local.set $fd (call $open_write (local.get $outputs) (i32.const 3072) (i32.const 200)))
      (if (i32.lt_s (local.get $fd) (i32.const 0)) (then (call $fail (i32.const 624) (i32.const 27))))
      (drop (call $fd_close (local.get $fd)))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br $each)))
  (call $print (i32.const 2048) (i32.const 8)))
