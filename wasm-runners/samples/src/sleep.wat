;; sleep MS: a job that runs for a predictable time. Prints "sleeping MS ms",
;; waits on the monotonic clock (which the sandbox grants, starting at zero
;; when the job starts) until MS milliseconds have passed — in slices of at
;; most 100 ms, reading the clock between them, so it neither burns a CPU nor
;; oversleeps — then prints "done" and writes "slept MS ms\n" to
;; /outputs/slept.txt. A wall-time limit shorter than MS stops it like any
;; other job. Exits 1 with a usage line if MS is not a whole number.

(import "wasi_snapshot_preview1" "clock_time_get" (func $clock_time_get (param i32 i64 i32) (result i32)))
(import "wasi_snapshot_preview1" "poll_oneoff" (func $poll_oneoff (param i32 i32 i32 i32) (result i32)))

(data (i32.const 2048) "sleeping \00 ms\0a\00done\0a\00slept \00slept.txt\00usage: sleep MS\0a")
;; 2048 "sleeping "  2058 " ms\n"  2063 "done\n"  2069 "slept "  2076 "slept.txt"  2086 usage (16 bytes)
;; 2304..2352 a clock subscription, 2368..2400 its event, 2400 the event count, 2408 a clock reading

(func $usage
  (call $fail (i32.const 2086) (i32.const 16)))

;; The first argument as milliseconds (at most 12 decimal digits).
(func $parse_ms (result i64)
  (local $p i32) (local $len i32) (local $i i32) (local $c i32) (local $ms i64)
  (if (i32.lt_u (global.get $argc) (i32.const 2)) (then (call $usage)))
  (local.set $p (call $arg (i32.const 1)))
  (local.set $len (call $strlen (local.get $p)))
  (if (i32.or (i32.eqz (local.get $len)) (i32.gt_u (local.get $len) (i32.const 12))) (then (call $usage)))
  (block $done
    (loop $digit
      (br_if $done (i32.ge_u (local.get $i) (local.get $len)))
      (local.set $c (i32.sub (i32.load8_u (i32.add (local.get $p) (local.get $i))) (i32.const 48)))
      (if (i32.gt_u (local.get $c) (i32.const 9)) (then (call $usage)))
      (local.set $ms (i64.add (i64.mul (local.get $ms) (i64.const 10)) (i64.extend_i32_u (local.get $c))))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br $digit)))
  (local.get $ms))

(func $monotonic_ns (result i64)
  (drop (call $clock_time_get (i32.const 1) (i64.const 1) (i32.const 2408)))
  (i64.load (i32.const 2408)))

;; Block on one relative monotonic-clock subscription of $ns nanoseconds.
(func $wait_ns (param $ns i64)
  (memory.fill (i32.const 2304) (i32.const 0) (i32.const 48))
  (i32.store (i32.const 2320) (i32.const 1))
  (i64.store (i32.const 2328) (local.get $ns))
  (drop (call $poll_oneoff (i32.const 2304) (i32.const 2368) (i32.const 1) (i32.const 2400))))

(func (export "_start")
  (local $ms_arg i32) (local $ms_len i32) (local $deadline i64) (local $left i64) (local $fd i32)
  (call $load_args)
  (local.set $deadline (i64.mul (call $parse_ms) (i64.const 1000000)))
  (local.set $ms_arg (call $arg (i32.const 1)))
  (local.set $ms_len (call $strlen (local.get $ms_arg)))
  (call $out_init)
  (call $out_str (i32.const 2048))
  (call $out_append (local.get $ms_arg) (local.get $ms_len))
  (call $out_str (i32.const 2058))
  (call $print (global.get $out) (global.get $out_len))
  (local.set $deadline (i64.add (call $monotonic_ns) (local.get $deadline)))
  (block $slept
    (loop $more
      (local.set $left (i64.sub (local.get $deadline) (call $monotonic_ns)))
      (br_if $slept (i64.le_s (local.get $left) (i64.const 0)))
      (if (i64.gt_s (local.get $left) (i64.const 100000000)) (then (local.set $left (i64.const 100000000))))
      (call $wait_ns (local.get $left))
      (br $more)))
  (call $print (i32.const 2063) (i32.const 5))
  (global.set $out_len (i32.const 0))
  (call $out_str (i32.const 2069))
  (call $out_append (local.get $ms_arg) (local.get $ms_len))
  (call $out_str (i32.const 2058))
  (local.set $fd (call $open_write (call $outputs_dir) (i32.const 2076) (i32.const 9)))
  (if (i32.lt_s (local.get $fd) (i32.const 0)) (then (call $fail (i32.const 624) (i32.const 27))))
  (if (call $write_all (local.get $fd) (global.get $out) (global.get $out_len))
    (then (call $fail (i32.const 624) (i32.const 27))))
  (drop (call $fd_close (local.get $fd))))
