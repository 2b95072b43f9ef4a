;; spin (hostile): says so on stdout, then loops forever. It must be stopped
;; at its wall-time limit.

(data (i32.const 2048) "spinning\n")

(func (export "_start")
  (call $print (i32.const 2048) (i32.const 9))
  (loop $forever (br $forever)))
