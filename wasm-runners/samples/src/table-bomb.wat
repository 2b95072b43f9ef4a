;; table-bomb (hostile): grows sixteen function tables by ten million
;; entries each. Tables live on the engine's heap, not in a linear memory,
;; so the memory cap does not bound them: the sandbox process's heap limit
;; must stop it, without taking the host down.

(data (i32.const 2048) "growing tables\n")
(data (i32.const 2080) "grown\n")

(table $t0 1 funcref) (table $t1 1 funcref) (table $t2 1 funcref) (table $t3 1 funcref)
(table $t4 1 funcref) (table $t5 1 funcref) (table $t6 1 funcref) (table $t7 1 funcref)
(table $t8 1 funcref) (table $t9 1 funcref) (table $t10 1 funcref) (table $t11 1 funcref)
(table $t12 1 funcref) (table $t13 1 funcref) (table $t14 1 funcref) (table $t15 1 funcref)

(func (export "_start")
  (call $print (i32.const 2048) (i32.const 15))
  (drop (table.grow $t0 (ref.null func) (i32.const 9999999)))
  (drop (table.grow $t1 (ref.null func) (i32.const 9999999)))
  (drop (table.grow $t2 (ref.null func) (i32.const 9999999)))
  (drop (table.grow $t3 (ref.null func) (i32.const 9999999)))
  (drop (table.grow $t4 (ref.null func) (i32.const 9999999)))
  (drop (table.grow $t5 (ref.null func) (i32.const 9999999)))
  (drop (table.grow $t6 (ref.null func) (i32.const 9999999)))
  (drop (table.grow $t7 (ref.null func) (i32.const 9999999)))
  (drop (table.grow $t8 (ref.null func) (i32.const 9999999)))
  (drop (table.grow $t9 (ref.null func) (i32.const 9999999)))
  (drop (table.grow $t10 (ref.null func) (i32.const 9999999)))
  (drop (table.grow $t11 (ref.null func) (i32.const 9999999)))
  (drop (table.grow $t12 (ref.null func) (i32.const 9999999)))
  (drop (table.grow $t13 (ref.null func) (i32.const 9999999)))
  (drop (table.grow $t14 (ref.null func) (i32.const 9999999)))
  (drop (table.grow $t15 (ref.null func) (i32.const 9999999)))
  (call $print (i32.const 2080) (i32.const 6)))
