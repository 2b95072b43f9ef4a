;; net-probe (hostile): tries to open a TCP socket, a UDP socket, to resolve
;; a host name and to send an HTTP request, calling the WASI sockets and HTTP
;; interfaces directly (see net-probe.wit). Each attempt is reported as
;; "<attempt> ok" or "<attempt> err <code>" on stdout and in the output file
;; `report.txt`.

(import "wasi:sockets/instance-network@0.2.12" "instance-network" (func $instance_network (result i32)))
(import "wasi:sockets/tcp-create-socket@0.2.12" "create-tcp-socket" (func $create_tcp (param i32 i32)))
(import "wasi:sockets/udp-create-socket@0.2.12" "create-udp-socket" (func $create_udp (param i32 i32)))
(import "wasi:sockets/ip-name-lookup@0.2.12" "resolve-addresses" (func $resolve (param i32 i32 i32 i32)))
(import "wasi:http/types@0.2.12" "[constructor]fields" (func $fields_new (result i32)))
(import "wasi:http/types@0.2.12" "[constructor]outgoing-request" (func $request_new (param i32) (result i32)))
(import "wasi:http/outgoing-handler@0.2.12" "handle" (func $http_handle (param i32 i32 i32 i32)))

(data (i32.const 2048) "tcp\00udp\00dns\00http\00")
(data (i32.const 2080) "example.com")
(data (i32.const 2096) "report.txt")
(data (i32.const 2112) " ok\n")
(data (i32.const 2128) " err ")

;; Canonical ABI results are written at 3072 (8-byte aligned, room for any error payload).
(func $report (param $name i32) (param $payload_offset i32)
  (call $out_str (local.get $name))
  (if (i32.eqz (i32.load8_u (i32.const 3072)))
    (then (call $out_append (i32.const 2112) (i32.const 4)))
    (else
      (call $out_append (i32.const 2128) (i32.const 5))
      (call $out_u32 (i32.load8_u (i32.add (i32.const 3072) (local.get $payload_offset))))
      (call $out_byte (i32.const 10)))))

;; Lets the host hand strings and lists back (HTTP error payloads may carry them).
(func (export "cabi_realloc") (param i32 i32 i32 i32) (result i32)
  (call $alloc (local.get 3)))

(func (export "_start")
  (local $outputs i32) (local $network i32)
  (local.set $outputs (call $outputs_dir))
  (call $out_init)
  (local.set $network (call $instance_network))
  (call $create_tcp (i32.const 0) (i32.const 3072))
  (call $report (i32.const 2048) (i32.const 4))
  (call $create_udp (i32.const 0) (i32.const 3072))
  (call $report (i32.const 2052) (i32.const 4))
  (call $resolve (local.get $network) (i32.const 2080) (i32.const 11) (i32.const 3072))
  (call $report (i32.const 2056) (i32.const 4))
  (call $http_handle (call $request_new (call $fields_new)) (i32.const 0) (i32.const 0) (i32.const 3072))
  (call $report (i32.const 2060) (i32.const 8))
  (call $out_publish (local.get $outputs) (i32.const 2096) (i32.const 10)))
