;; The benchmarks' Proxy-Wasm module (ABI 0.2.1), for Envoy's Wasm filter on V8. The harness
;; replaces JOB below with 1 (add `x-bench-added: 1` to every response), 2 (upper-case the ASCII
;; letters of each request body chunk), 3 (pass: change nothing) or 4 (respond: answer the request
;; itself with status 200 and 64 KiB, 16 × 4 KiB with chunk i the letter 'a' + i, in one
;; `proxy_send_local_response`, as Proxy-Wasm cannot stream a response it makes) and compiles the
;; text with the `wat` crate.
;;
;; A Proxy-Wasm module cannot touch Envoy's buffers: a body chunk is copied into this module's
;; memory (proxy_get_buffer_bytes), rewritten there, and copied back (proxy_set_buffer_bytes).
(module
  (import "env" "proxy_add_header_map_value"
    (func $add_header (param i32 i32 i32 i32 i32) (result i32)))
  (import "env" "proxy_get_buffer_bytes"
    (func $get_buffer (param i32 i32 i32 i32 i32) (result i32)))
  (import "env" "proxy_set_buffer_bytes"
    (func $set_buffer (param i32 i32 i32 i32 i32) (result i32)))
  (import "env" "proxy_send_local_response"
    (func $send_local_response (param i32 i32 i32 i32 i32 i32 i32 i32) (result i32)))

  (memory (export "memory") 2)
  (global $job i32 (i32.const JOB))
  ;; Page 0: the header's name (16) and value (32); the host writes a buffer's address and size
  ;; into 64 and 68.
  (data (i32.const 16) "x-bench-added")
  (data (i32.const 32) "1")
  (global $heap (mut i32) (i32.const 65536))
  ;; Job 4: where the response body is once made (0 before), in a page of its own.
  (global $body (mut i32) (i32.const 0))

  (func (export "proxy_abi_version_0_2_1"))

  ;; Every allocation gets the same region from 64 KiB on, grown to fit: the host allocates only
  ;; when this module asks for a buffer, and each buffer is used up before the next request.
  (func (export "proxy_on_memory_allocate") (param $size i32) (result i32)
    (local $have i32) (local $need i32)
    (local.set $need (i32.add (global.get $heap) (local.get $size)))
    (local.set $have (i32.shl (memory.size) (i32.const 16)))
    (if (i32.gt_u (local.get $need) (local.get $have))
      (then
        (if (i32.eq
              (memory.grow (i32.shr_u
                (i32.add (i32.sub (local.get $need) (local.get $have)) (i32.const 65535))
                (i32.const 16)))
              (i32.const -1))
          (then (return (i32.const 0))))))
    (global.get $heap))

  (func (export "proxy_on_context_create") (param i32 i32))
  (func (export "proxy_on_vm_start") (param i32 i32) (result i32) (i32.const 1))
  (func (export "proxy_on_configure") (param i32 i32) (result i32) (i32.const 1))
;; Job 4's body, made at the first request: a page added past the memory, the heap moved past it.
  (func $response_body (result i32)
    (local $i i32)
    (if (i32.eqz (global.get $body))
      (then
        (global.set $body (i32.shl (memory.grow (i32.const 1)) (i32.const 16)))
        (global.set $heap (i32.add (global.get $body) (i32.const 65536)))
        (block $filled
          (loop $fill
            (br_if $filled (i32.ge_u (local.get $i) (i32.const 65536)))
            (i32.store8 (i32.add (global.get $body) (local.get $i))
              (i32.add (i32.const 97) (i32.shr_u (local.get $i) (i32.const 12))))
            (local.set $i (i32.add (local.get $i) (i32.const 1)))
            (br $fill)))))
    (global.get $body))

  (func (export "proxy_on_request_headers") (param i32 i32 i32) (result i32)
    (if (i32.ne (global.get $job) (i32.const 4))
      (then (return (i32.const 0))))
    ;; Status 200, no details, the body, no extra headers, no gRPC status (-1); then stop.
    (drop (call $send_local_response
      (i32.const 200) (i32.const 0) (i32.const 0) (call $response_body) (i32.const 65536)
      (i32.const 0) (i32.const 0) (i32.const -1)))
    (i32.const 1))

  (func (export "proxy_on_response_headers") (param i32 i32 i32) (result i32)
    (if (i32.eq (global.get $job) (i32.const 1))
      (then (drop (call $add_header
        (i32.const 2) (i32.const 16) (i32.const 13) (i32.const 32) (i32.const 1)))))
    (i32.const 0))

  ;; Upper-cases [p, p+n): 8 bytes at a time (SWAR: a byte's high bit marks 'a'..'z', and
  ;; XOR-ing 0x20 there clears bit 5), then byte by byte.
  (func $upper (param $p i32) (param $n i32)
    (local $x i64) (local $h i64) (local $end i32) (local $c i32)
    (local.set $end (i32.add (local.get $p) (local.get $n)))
    (block $words_done
      (loop $words
        (br_if $words_done (i32.lt_u (i32.sub (local.get $end) (local.get $p)) (i32.const 8)))
        (local.set $x (i64.load (local.get $p)))
        (local.set $h (i64.and (local.get $x) (i64.const 0x7f7f7f7f7f7f7f7f)))
        (i64.store (local.get $p)
          (i64.xor (local.get $x)
            (i64.shr_u
              (i64.and
                (i64.and
                  (i64.add (local.get $h) (i64.const 0x1f1f1f1f1f1f1f1f))
                  (i64.xor (i64.add (local.get $h) (i64.const 0x0505050505050505)) (i64.const -1)))
                (i64.and (i64.xor (local.get $x) (i64.const -1)) (i64.const 0x8080808080808080)))
              (i64.const 2))))
        (local.set $p (i32.add (local.get $p) (i32.const 8)))
        (br $words)))
    (block $bytes_done
      (loop $bytes
        (br_if $bytes_done (i32.ge_u (local.get $p) (local.get $end)))
        (local.set $c (i32.load8_u (local.get $p)))
        (if (i32.lt_u (i32.sub (local.get $c) (i32.const 97)) (i32.const 26))
          (then (i32.store8 (local.get $p) (i32.sub (local.get $c) (i32.const 32)))))
        (local.set $p (i32.add (local.get $p) (i32.const 1)))
        (br $bytes))))

  (func (export "proxy_on_request_body") (param $ctx i32) (param $size i32) (param $end i32) (result i32)
    (local $ptr i32) (local $len i32)
    (if (i32.or (i32.ne (global.get $job) (i32.const 2)) (i32.eqz (local.get $size)))
      (then (return (i32.const 0))))
    ;; Buffer type 0: the request body chunk at hand.
    (if (i32.ne (call $get_buffer (i32.const 0) (i32.const 0) (local.get $size) (i32.const 64) (i32.const 68))
                (i32.const 0))
      (then (return (i32.const 0))))
    (local.set $ptr (i32.load (i32.const 64)))
    (local.set $len (i32.load (i32.const 68)))
    (call $upper (local.get $ptr) (local.get $len))
    (drop (call $set_buffer (i32.const 0) (i32.const 0) (local.get $len) (local.get $ptr) (local.get $len)))
    (i32.const 0))

  (func (export "proxy_on_done") (param i32) (result i32) (i32.const 1))
  (func (export "proxy_on_delete") (param i32)))
