;; env-probe: reports what the job can see of its world, one item per line
;; on stdout: "arg <value>" for each argument, "env <name=value>" for each
;; environment variable, "realtime <ns>" from the wall clock, then sleeps
;; 20 ms on the monotonic clock and reports "monotonic <ns>" before and after.

(import "wasi_snapshot_preview1" "environ_sizes_get" (func $environ_sizes_get (param i32 i32) (result i32)))
(import "wasi_snapshot_preview1" "environ_get" (func $environ_get (param i32 i32) (result i32)))
(import "wasi_snapshot_preview1" "clock_time_get" (func $clock_time_get (param i32 i64 i32) (result i32)))
(import "wasi_snapshot_preview1" "poll_oneoff" (func $poll_oneoff (param i32 i32 i32 i32) (result i32)))

(data (i32.const 2048) "arg \00env \00realtime \00monotonic \00")

(func $out_u64 (param $n i64)
  (local $i i32)
  (local.set $i (i32.const 256))
  (loop $digit
    (local.set $i (i32.sub (local.get $i) (i32.const 1)))
    (i32.store8 (local.get $i) (i32.wrap_i64 (i64.add (i64.const 48) (i64.rem_u (local.get $n) (i64.const 10)))))
    (local.set $n (i64.div_u (local.get $n) (i64.const 10)))
    (br_if $digit (i64.ne (local.get $n) (i64.const 0))))
  (call $out_append (local.get $i) (i32.sub (i32.const 256) (local.get $i))))

(func $clock (param $id i32) (result i64)
  (drop (call $clock_time_get (local.get $id) (i64.const 1) (i32.const 224)))
  (i64.load (i32.const 224)))

(func $report_clock (param $label i32) (param $id i32)
  (call $out_str (local.get $label))
  (call $out_u64 (call $clock (local.get $id)))
  (call $out_byte (i32.const 10)))

;; Sleep on the monotonic clock with one relative clock subscription.
(func $sleep_ms (param $ms i32)
  (local $sub i32) (local $event i32)
  (local.set $sub (call $alloc (i32.const 48)))
  (local.set $event (call $alloc (i32.const 32)))
  (memory.fill (local.get $sub) (i32.const 0) (i32.const 48))
  (i32.store offset=16 (local.get $sub) (i32.const 1))
  (i64.store offset=24 (local.get $sub) (i64.mul (i64.extend_i32_u (local.get $ms)) (i64.const 1000000)))
  (drop (call $poll_oneoff (local.get $sub) (local.get $event) (i32.const 1) (i32.const 232))))

(func (export "_start")
  (local $i i32) (local $count i32) (local $ptrs i32)
  (call $load_args)
  (call $out_init)
  (local.set $i (i32.const 1))
  (block $args_done
    (loop $args
      (br_if $args_done (i32.ge_u (local.get $i) (global.get $argc)))
      (call $out_str (i32.const 2048))
      (call $out_str (call $arg (local.get $i)))
      (call $out_byte (i32.const 10))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br $args)))
  (drop (call $environ_sizes_get (i32.const 216) (i32.const 220)))
  (local.set $count (i32.load (i32.const 216)))
  (local.set $ptrs (call $alloc (i32.shl (local.get $count) (i32.const 2))))
  (drop (call $environ_get (local.get $ptrs) (call $alloc (i32.load (i32.const 220)))))
  (local.set $i (i32.const 0))
  (block $env_done
    (loop $env
      (br_if $env_done (i32.ge_u (local.get $i) (local.get $count)))
      (call $out_str (i32.const 2053))
      (call $out_str (i32.load (i32.add (local.get $ptrs) (i32.shl (local.get $i) (i32.const 2)))))
      (call $out_byte (i32.const 10))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br $env)))
  (call $report_clock (i32.const 2058) (i32.const 0))
  (call $report_clock (i32.const 2068) (i32.const 1))
  (call $sleep_ms (i32.const 20))
  (call $report_clock (i32.const 2068) (i32.const 1))
  (call $print (global.get $out) (global.get $out_len)))
