;; Shared helpers for the sample jobs, spliced into each sample by build.ts
;; (its imports are hoisted ahead of the sample's own definitions).
;;
;; Memory layout (page 0):
;;   0..256      scratch: iovecs and out-parameters
;;   256..512    preopen name buffer
;;   512..1024   constant strings
;;   1024..2048  argv pointers (at most 256 arguments)
;;   2048..4096  sample-specific data
;;   4096..65536 argv strings
;;   65536..     heap (bump allocated, never freed; see $alloc)
(import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
(import "wasi_snapshot_preview1" "fd_read" (func $fd_read (param i32 i32 i32 i32) (result i32)))
(import "wasi_snapshot_preview1" "fd_close" (func $fd_close (param i32) (result i32)))
(import "wasi_snapshot_preview1" "fd_filestat_get" (func $fd_filestat_get (param i32 i32) (result i32)))
(import "wasi_snapshot_preview1" "fd_prestat_get" (func $fd_prestat_get (param i32 i32) (result i32)))
(import "wasi_snapshot_preview1" "fd_prestat_dir_name" (func $fd_prestat_dir_name (param i32 i32 i32) (result i32)))
(import "wasi_snapshot_preview1" "path_open"
  (func $path_open (param i32 i32 i32 i32 i32 i64 i64 i32 i32) (result i32)))
(import "wasi_snapshot_preview1" "args_sizes_get" (func $args_sizes_get (param i32 i32) (result i32)))
(import "wasi_snapshot_preview1" "args_get" (func $args_get (param i32 i32) (result i32)))
(import "wasi_snapshot_preview1" "proc_exit" (func $proc_exit (param i32)))

(memory (export "memory") 2)
(global $heap (mut i32) (i32.const 65536))
(global $heap_end (mut i32) (i32.const 131072))
(global $argc (mut i32) (i32.const 0))
(global $file_len (mut i32) (i32.const 0))
(global $out (mut i32) (i32.const 0))
(global $out_len (mut i32) (i32.const 0))
(global $out_cap (mut i32) (i32.const 0))

(data (i32.const 512) "/inputs")
(data (i32.const 528) "/outputs")
(data (i32.const 544) "error: no /inputs or /outputs preopen\n")
(data (i32.const 592) "error: cannot open input\n")
(data (i32.const 624) "error: cannot write output\n")
(data (i32.const 656) "error: too many or too long arguments\n")
(data (i32.const 704) "error: out of memory\n")

;; Bump allocator, 8-byte aligned. Memory past the two declared pages is only
;; ever taken with memory.grow, as the preview1 adapter also takes its state
;; pages from the same memory that way.
(func $alloc (param $n i32) (result i32)
  (local $p i32) (local $pages i32) (local $old i32)
  (local.set $p (i32.and (i32.add (global.get $heap) (i32.const 7)) (i32.const -8)))
  (if (i32.gt_u (i32.add (local.get $p) (local.get $n)) (global.get $heap_end))
    (then
      (local.set $pages (i32.shr_u (i32.add (local.get $n) (i32.const 65535)) (i32.const 16)))
      (local.set $old (memory.grow (local.get $pages)))
      (if (i32.eq (local.get $old) (i32.const -1)) (then (call $fail (i32.const 704) (i32.const 21))))
      (local.set $p (i32.shl (local.get $old) (i32.const 16)))
      (global.set $heap_end (i32.shl (i32.add (local.get $old) (local.get $pages)) (i32.const 16)))))
  (global.set $heap (i32.add (local.get $p) (local.get $n)))
  (local.get $p))

(func $strlen (param $p i32) (result i32)
  (local $n i32)
  (block $done
    (loop $next
      (br_if $done (i32.eqz (i32.load8_u (i32.add (local.get $p) (local.get $n)))))
      (local.set $n (i32.add (local.get $n) (i32.const 1)))
      (br $next)))
  (local.get $n))

(func $memeq (param $a i32) (param $b i32) (param $n i32) (result i32)
  (local $i i32)
  (block $differ
    (loop $next
      (if (i32.ge_u (local.get $i) (local.get $n)) (then (return (i32.const 1))))
      (br_if $differ (i32.ne (i32.load8_u (i32.add (local.get $a) (local.get $i)))
                             (i32.load8_u (i32.add (local.get $b) (local.get $i)))))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br $next)))
  (i32.const 0))

;; Write all of [ptr, ptr+len) to fd; returns the WASI errno (0 on success).
(func $write_all (param $fd i32) (param $ptr i32) (param $len i32) (result i32)
  (local $err i32) (local $n i32)
  (block $done
    (loop $more
      (br_if $done (i32.eqz (local.get $len)))
      (i32.store (i32.const 0) (local.get $ptr))
      (i32.store (i32.const 4) (local.get $len))
      (local.set $err (call $fd_write (local.get $fd) (i32.const 0) (i32.const 1) (i32.const 8)))
      (if (local.get $err) (then (return (local.get $err))))
      (local.set $n (i32.load (i32.const 8)))
      (local.set $ptr (i32.add (local.get $ptr) (local.get $n)))
      (local.set $len (i32.sub (local.get $len) (local.get $n)))
      (br $more)))
  (i32.const 0))

(func $print (param $ptr i32) (param $len i32)
  (drop (call $write_all (i32.const 1) (local.get $ptr) (local.get $len))))

(func $fail (param $ptr i32) (param $len i32)
  (drop (call $write_all (i32.const 2) (local.get $ptr) (local.get $len)))
  (call $proc_exit (i32.const 1))
  (unreachable))

;; Read the arguments into argv pointers at 1024 and strings at 4096.
(func $load_args
  (drop (call $args_sizes_get (i32.const 16) (i32.const 20)))
  (if (i32.or (i32.gt_u (i32.load (i32.const 16)) (i32.const 256))
              (i32.gt_u (i32.load (i32.const 20)) (i32.const 61440)))
    (then (call $fail (i32.const 656) (i32.const 38))))
  (global.set $argc (i32.load (i32.const 16)))
  (drop (call $args_get (i32.const 1024) (i32.const 4096))))

(func $arg (param $i i32) (result i32)
  (i32.load (i32.add (i32.const 1024) (i32.shl (local.get $i) (i32.const 2)))))

;; The fd of the preopened directory named [name, name+len), or -1.
(func $preopen (param $name i32) (param $len i32) (result i32)
  (local $fd i32)
  (local.set $fd (i32.const 3))
  (loop $next
    (if (call $fd_prestat_get (local.get $fd) (i32.const 24)) (then (return (i32.const -1))))
    (if (i32.and (i32.eqz (i32.load8_u (i32.const 24))) (i32.eq (i32.load (i32.const 28)) (local.get $len)))
      (then
        (drop (call $fd_prestat_dir_name (local.get $fd) (i32.const 256) (local.get $len)))
        (if (call $memeq (i32.const 256) (local.get $name) (local.get $len)) (then (return (local.get $fd))))))
    (local.set $fd (i32.add (local.get $fd) (i32.const 1)))
    (br $next))
  (i32.const -1))

(func $inputs_dir (result i32)
  (local $fd i32)
  (local.set $fd (call $preopen (i32.const 512) (i32.const 7)))
  (if (i32.lt_s (local.get $fd) (i32.const 0)) (then (call $fail (i32.const 544) (i32.const 38))))
  (local.get $fd))

(func $outputs_dir (result i32)
  (local $fd i32)
  (local.set $fd (call $preopen (i32.const 528) (i32.const 8)))
  (if (i32.lt_s (local.get $fd) (i32.const 0)) (then (call $fail (i32.const 544) (i32.const 38))))
  (local.get $fd))

;; Open a file for reading (following symlinks); returns the fd, or -errno.
(func $open_read (param $dir i32) (param $path i32) (param $len i32) (result i32)
  (local $err i32)
  (local.set $err (call $path_open (local.get $dir) (i32.const 1) (local.get $path) (local.get $len)
    (i32.const 0) (i64.const 0x200006) (i64.const 0) (i32.const 0) (i32.const 32)))
  (if (local.get $err) (then (return (i32.sub (i32.const 0) (local.get $err)))))
  (i32.load (i32.const 32)))

;; Create (or truncate) a file for writing; returns the fd, or -errno.
(func $open_write (param $dir i32) (param $path i32) (param $len i32) (result i32)
  (local $err i32)
  (local.set $err (call $path_open (local.get $dir) (i32.const 0) (local.get $path) (local.get $len)
    (i32.const 9) (i64.const 0x200046) (i64.const 0) (i32.const 0) (i32.const 32)))
  (if (local.get $err) (then (return (i32.sub (i32.const 0) (local.get $err)))))
  (i32.load (i32.const 32)))

;; Read a whole file into fresh heap memory; returns the pointer and sets $file_len.
(func $read_file (param $fd i32) (result i32)
  (local $size i32) (local $buf i32) (local $got i32) (local $n i32)
  (drop (call $fd_filestat_get (local.get $fd) (i32.const 64)))
  (local.set $size (i32.wrap_i64 (i64.load (i32.const 96))))
  (local.set $buf (call $alloc (local.get $size)))
  (block $done
    (loop $more
      (br_if $done (i32.ge_u (local.get $got) (local.get $size)))
      (i32.store (i32.const 0) (i32.add (local.get $buf) (local.get $got)))
      (i32.store (i32.const 4) (i32.sub (local.get $size) (local.get $got)))
      (br_if $done (call $fd_read (local.get $fd) (i32.const 0) (i32.const 1) (i32.const 8)))
      (local.set $n (i32.load (i32.const 8)))
      (br_if $done (i32.eqz (local.get $n)))
      (local.set $got (i32.add (local.get $got) (local.get $n)))
      (br $more)))
  (global.set $file_len (local.get $got))
  (local.get $buf))

;; Read the input named by argument $i, failing the job if it cannot be opened.
(func $read_input_arg (param $inputs i32) (param $i i32) (result i32)
  (local $fd i32) (local $buf i32)
  (local.set $fd (call $open_read (local.get $inputs) (call $arg (local.get $i)) (call $strlen (call $arg (local.get $i)))))
  (if (i32.lt_s (local.get $fd) (i32.const 0)) (then (call $fail (i32.const 592) (i32.const 25))))
  (local.set $buf (call $read_file (local.get $fd)))
  (drop (call $fd_close (local.get $fd)))
  (local.get $buf))

;; A growable text buffer for a sample's report.
(func $out_init
  (global.set $out_cap (i32.const 1048576))
  (global.set $out (call $alloc (global.get $out_cap)))
  (global.set $out_len (i32.const 0)))

(func $out_append (param $ptr i32) (param $len i32)
  (local $grown i32)
  (if (i32.gt_u (i32.add (global.get $out_len) (local.get $len)) (global.get $out_cap))
    (then
      (global.set $out_cap (i32.shl (i32.add (global.get $out_len) (local.get $len)) (i32.const 1)))
      (local.set $grown (call $alloc (global.get $out_cap)))
      (memory.copy (local.get $grown) (global.get $out) (global.get $out_len))
      (global.set $out (local.get $grown))))
  (memory.copy (i32.add (global.get $out) (global.get $out_len)) (local.get $ptr) (local.get $len))
  (global.set $out_len (i32.add (global.get $out_len) (local.get $len))))

(func $out_byte (param $b i32)
  (i32.store8 (i32.const 40) (local.get $b))
  (call $out_append (i32.const 40) (i32.const 1)))

(func $out_str (param $p i32)
  (call $out_append (local.get $p) (call $strlen (local.get $p))))

(func $out_u32 (param $n i32)
  (local $i i32)
  (local.set $i (i32.const 56))
  (loop $digit
    (local.set $i (i32.sub (local.get $i) (i32.const 1)))
    (i32.store8 (local.get $i) (i32.add (i32.const 48) (i32.rem_u (local.get $n) (i32.const 10))))
    (local.set $n (i32.div_u (local.get $n) (i32.const 10)))
    (br_if $digit (local.get $n)))
  (call $out_append (local.get $i) (i32.sub (i32.const 56) (local.get $i))))

;; Print the report and store it as the output file named [name, name+len).
(func $out_publish (param $outputs i32) (param $name i32) (param $len i32)
  (local $fd i32)
  (call $print (global.get $out) (global.get $out_len))
  (local.set $fd (call $open_write (local.get $outputs) (local.get $name) (local.get $len)))
  (if (i32.lt_s (local.get $fd) (i32.const 0)) (then (call $fail (i32.const 624) (i32.const 27))))
  (if (call $write_all (local.get $fd) (global.get $out) (global.get $out_len))
    (then (call $fail (i32.const 624) (i32.const 27))))
  (drop (call $fd_close (local.get $fd))))
