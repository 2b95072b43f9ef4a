;; flood (hostile): writes to stdout forever. It must be stopped at its
;; output limit, long before its wall-time limit.

(data (i32.const 2048) "flood flood flood flood flood flood flood flood flood flood flood flood flood flood flood\n")

(func (export "_start")
  (loop $forever
    (call $print (i32.const 2048) (i32.const 90))
    (br $forever)))
