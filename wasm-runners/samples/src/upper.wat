;; upper: `upper IN OUT` writes input IN with ASCII letters uppercased to the
;; output file OUT, and prints how many bytes it wrote.

(data (i32.const 2048) "uppercased ")
(data (i32.const 2064) " bytes\n")
(data (i32.const 2080) "usage: upper IN OUT\n")

(func (export "_start")
  (local $inputs i32) (local $outputs i32) (local $data i32) (local $len i32) (local $i i32) (local $c i32)
  (local $fd i32)
  (call $load_args)
  (if (i32.ne (global.get $argc) (i32.const 3)) (then (call $fail (i32.const 2080) (i32.const 20))))
  (local.set $inputs (call $inputs_dir))
  (local.set $outputs (call $outputs_dir))
  (local.set $data (call $read_input_arg (local.get $inputs) (i32.const 1)))
  (local.set $len (global.get $file_len))
  (block $done
    (loop $each
      (br_if $done (i32.ge_u (local.get $i) (local.get $len)))
      (local.set $c (i32.load8_u (i32.add (local.get $data) (local.get $i))))
      (if (i32.lt_u (i32.sub (local.get $c) (i32.const 97)) (i32.const 26))
        (then (i32.store8 (i32.add (local.get $data) (local.get $i)) (i32.sub (local.get $c) (i32.const 32)))))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br $each)))
  (local.set $fd (call $open_write (local.get $outputs) (call $arg (i32.const 2)) (call $strlen (call $arg (i32.const 2)))))
  (if (i32.lt_s (local.get $fd) (i32.const 0)) (then (call $fail (i32.const 624) (i32.const 27))))
  (if (call $write_all (local.get $fd) (local.get $data) (local.get $len))
    (then (call $fail (i32.const 624) (i32.const 27))))
  (drop (call $fd_close (local.get $fd)))
  (call $out_init)
  (call $out_append (i32.const 2048) (i32.const 11))
  (call $out_u32 (local.get $len))
  (call $out_append (i32.const 2064) (i32.const 7))
  (call $print (global.get $out) (global.get $out_len)))
