;; line-count: `line-count PATH...` counts the lines of each named input (a
;; final line without a newline counts too) and writes "<count> <path>" lines
;; to stdout and to the output file `line-counts.txt`.

(data (i32.const 2048) "line-counts.txt")

(func (export "_start")
  (local $inputs i32) (local $outputs i32) (local $i i32) (local $data i32) (local $len i32) (local $j i32)
  (local $lines i32)
  (call $load_args)
  (local.set $inputs (call $inputs_dir))
  (local.set $outputs (call $outputs_dir))
  (call $out_init)
  (local.set $i (i32.const 1))
  (block $done
    (loop $each
      (br_if $done (i32.ge_u (local.get $i) (global.get $argc)))
      (local.set $data (call $read_input_arg (local.get $inputs) (local.get $i)))
      (local.set $len (global.get $file_len))
      (local.set $lines (i32.const 0))
      (local.set $j (i32.const 0))
      (block $counted
        (loop $byte
          (br_if $counted (i32.ge_u (local.get $j) (local.get $len)))
          (if (i32.eq (i32.load8_u (i32.add (local.get $data) (local.get $j))) (i32.const 10))
            (then (local.set $lines (i32.add (local.get $lines) (i32.const 1)))))
          (local.set $j (i32.add (local.get $j) (i32.const 1)))
          (br $byte)))
      (if (i32.and (i32.gt_u (local.get $len) (i32.const 0))
                   (i32.ne (i32.load8_u (i32.add (local.get $data) (i32.sub (local.get $len) (i32.const 1))))
                           (i32.const 10)))
        (then (local.set $lines (i32.add (local.get $lines) (i32.const 1)))))
      (call $out_u32 (local.get $lines))
      (call $out_byte (i32.const 32))
      (call $out_str (call $arg (local.get $i)))
      (call $out_byte (i32.const 10))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br $each)))
  (call $out_publish (local.get $outputs) (i32.const 2048) (i32.const 15)))
