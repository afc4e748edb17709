;; The engine's one pass over every character of a segment (src/engine/prescan.ts), in
;; WebAssembly because a JavaScript loop over a string's characters runs at 100-200 MB/s on the
;; machines we measure on. Texts are UTF-16 code units, as JavaScript strings hold them.
;;
;; Tables, at fixed offsets from address 0 (written by prescan.ts):
;;      0  fold: per ASCII character, its lower-case form if a letter or digit, else 0
;;    128  classes: per ASCII character, its class in the shape automaton (non-ASCII: class 0)
;;    256  starts: per class, 1 when it leaves the automaton's start state
;;    512  results: i64 shapes seen, i32 text changed, i32 words written, i32 resume index
;;   1024  buckets: 65,536 bytes, 1 where some keyword's first word hashes
;;  66560  map: per UTF-16 code unit, what normalization makes of it (0: dropped; below 128 unused)
(module
  (memory (export "memory") 1)

  ;; A word's hash → its bucket (the same mix as bucketOf in keywords.ts).
  (func $bucket (param $key i32) (result i32)
    (i32.shr_u (i32.mul (local.get $key) (i32.const 0x9e3779b1)) (i32.const 16)))

  ;; In one pass over the text at $text ($n code units), in place:
  ;; - normalizes it (src/engine/normalize.ts) and returns the new length;
  ;; - runs the shape automaton (src/engine/shapes.ts): entries of $transitions are
  ;;   (next state × class count) × 2, plus 1 when the next state completes shapes, whose mask is
  ;;   at $accept + 8 × state;
  ;; - hashes each word (a run of ASCII letters and digits) as keywords.ts does, and writes
  ;;   (start, hash) to $hits for each word whose bucket is set, up to $cap; past that, the
  ;;   start of the first word left out is the resume index (else the length), for `walk`.
  (func (export "prescan")
    (param $text i32) (param $n i32) (param $transitions i32) (param $classCount i32)
    (param $accept i32) (param $hits i32) (param $cap i32)
    (result i32)
    (local $read i32) (local $write i32) (local $end i32) (local $c i32) (local $mapped i32)
    (local $class i32) (local $fold i32) (local $row i32) (local $entry i32) (local $mask i64)
    (local $changed i32) (local $inWord i32) (local $start i32) (local $h i32) (local $count i32)
    (local $resume i32) (local $key i32)
    (local.set $read (local.get $text))
    (local.set $write (local.get $text))
    (local.set $end (i32.add (local.get $text) (i32.shl (local.get $n) (i32.const 1))))
    (local.set $resume (i32.const -1))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $read) (local.get $end)))
        (local.set $c (i32.load16_u (local.get $read)))
        (local.set $read (i32.add (local.get $read) (i32.const 2)))
        (if (i32.ge_u (local.get $c) (i32.const 128))
          (then
            (local.set $mapped (i32.load16_u offset=66560 (i32.shl (local.get $c) (i32.const 1))))
            (if (i32.ne (local.get $mapped) (local.get $c))
              (then
                (local.set $changed (i32.const 1))
                ;; zero-width characters, soft hyphens and the like are dropped
                (br_if $next (i32.eqz (local.get $mapped)))
                (local.set $c (local.get $mapped))))))
        (local.set $class (i32.const 0))
        (local.set $fold (i32.const 0))
        (if (i32.lt_u (local.get $c) (i32.const 128))
          (then
            (local.set $class (i32.load8_u offset=128 (local.get $c)))
            (local.set $fold (i32.load8_u (local.get $c)))))
        (i32.store16 (local.get $write) (local.get $c))
        ;; words
        (if (local.get $fold)
          (then
            (if (i32.eqz (local.get $inWord))
              (then
                (local.set $inWord (i32.const 1))
                (local.set $start (local.get $write))
                (local.set $h (i32.const 0))))
            (local.set $h (i32.xor (i32.rotl (local.get $h) (i32.const 5)) (local.get $fold))))
          (else
            (if (local.get $inWord)
              (then
                (local.set $inWord (i32.const 0))
                (local.set $key (i32.and (local.get $h) (i32.const 0x3fffffff)))
                (if (i32.load8_u offset=1024 (i32.and (call $bucket (local.get $key)) (i32.const 0xffff)))
                  (then
                    (if (i32.lt_u (local.get $count) (local.get $cap))
                      (then
                        (i32.store (i32.add (local.get $hits) (i32.shl (local.get $count) (i32.const 3)))
                          (i32.shr_u (i32.sub (local.get $start) (local.get $text)) (i32.const 1)))
                        (i32.store offset=4 (i32.add (local.get $hits) (i32.shl (local.get $count) (i32.const 3))) (local.get $key))
                        (local.set $count (i32.add (local.get $count) (i32.const 1))))
                      (else
                        (if (i32.lt_s (local.get $resume) (i32.const 0))
                          (then (local.set $resume (i32.shr_u (i32.sub (local.get $start) (local.get $text)) (i32.const 1)))))))))))))
        (local.set $write (i32.add (local.get $write) (i32.const 2)))
        ;; shapes: in the start state, most characters (letters, spaces) start nothing
        (if (i32.or (local.get $row) (i32.load8_u offset=256 (local.get $class)))
          (then
            (local.set $entry (i32.load (i32.add (local.get $transitions) (i32.shl (i32.add (local.get $row) (local.get $class)) (i32.const 2)))))
            (local.set $row (i32.shr_u (local.get $entry) (i32.const 1)))
            (if (i32.and (local.get $entry) (i32.const 1))
              (then
                (local.set $mask (i64.or (local.get $mask)
                  (i64.load (i32.add (local.get $accept) (i32.shl (i32.div_u (local.get $row) (local.get $classCount)) (i32.const 3))))))))))
        (br $next)))
    ;; a word running to the end of the text
    (if (local.get $inWord)
      (then
        (local.set $key (i32.and (local.get $h) (i32.const 0x3fffffff)))
        (if (i32.load8_u offset=1024 (i32.and (call $bucket (local.get $key)) (i32.const 0xffff)))
          (then
            (if (i32.lt_u (local.get $count) (local.get $cap))
              (then
                (i32.store (i32.add (local.get $hits) (i32.shl (local.get $count) (i32.const 3)))
                  (i32.shr_u (i32.sub (local.get $start) (local.get $text)) (i32.const 1)))
                (i32.store offset=4 (i32.add (local.get $hits) (i32.shl (local.get $count) (i32.const 3))) (local.get $key))
                (local.set $count (i32.add (local.get $count) (i32.const 1))))
              (else
                (if (i32.lt_s (local.get $resume) (i32.const 0))
                  (then (local.set $resume (i32.shr_u (i32.sub (local.get $start) (local.get $text)) (i32.const 1)))))))))))
    (if (i32.lt_s (local.get $resume) (i32.const 0))
      (then (local.set $resume (i32.shr_u (i32.sub (local.get $write) (local.get $text)) (i32.const 1)))))
    (i64.store offset=512 (i32.const 0) (local.get $mask))
    (i32.store offset=520 (i32.const 0) (local.get $changed))
    (i32.store offset=524 (i32.const 0) (local.get $count))
    (i32.store offset=528 (i32.const 0) (local.get $resume))
    (i32.shr_u (i32.sub (local.get $write) (local.get $text)) (i32.const 1)))

  ;; The word hashing of `prescan` alone, over normalized text, from index $from (a word start
  ;; or any non-word character): for texts with more candidate words than one call hands over.
  ;; Writes words count and resume index to the results, as `prescan` does.
  (func (export "walk")
    (param $text i32) (param $from i32) (param $n i32) (param $hits i32) (param $cap i32)
    (local $i i32) (local $end i32) (local $c i32) (local $f i32) (local $start i32)
    (local $h i32) (local $count i32) (local $key i32)
    (local.set $i (i32.add (local.get $text) (i32.shl (local.get $from) (i32.const 1))))
    (local.set $end (i32.add (local.get $text) (i32.shl (local.get $n) (i32.const 1))))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $i) (local.get $end)))
        (local.set $c (i32.load16_u (local.get $i)))
        (local.set $f (i32.const 0))
        (if (i32.lt_u (local.get $c) (i32.const 128))
          (then (local.set $f (i32.load8_u (local.get $c)))))
        (if (i32.eqz (local.get $f))
          (then
            (local.set $i (i32.add (local.get $i) (i32.const 2)))
            (br $next)))
        (local.set $start (local.get $i))
        (local.set $h (i32.const 0))
        (block $wordEnd
          (loop $word
            (local.set $h (i32.xor (i32.rotl (local.get $h) (i32.const 5)) (local.get $f)))
            (local.set $i (i32.add (local.get $i) (i32.const 2)))
            (br_if $wordEnd (i32.ge_u (local.get $i) (local.get $end)))
            (local.set $c (i32.load16_u (local.get $i)))
            (br_if $wordEnd (i32.ge_u (local.get $c) (i32.const 128)))
            (local.set $f (i32.load8_u (local.get $c)))
            (br_if $word (local.get $f))))
        (local.set $key (i32.and (local.get $h) (i32.const 0x3fffffff)))
        (if (i32.load8_u offset=1024 (i32.and (call $bucket (local.get $key)) (i32.const 0xffff)))
          (then
            (if (i32.eq (local.get $count) (local.get $cap))
              (then
                (i32.store offset=524 (i32.const 0) (local.get $count))
                (i32.store offset=528 (i32.const 0) (i32.shr_u (i32.sub (local.get $start) (local.get $text)) (i32.const 1)))
                (return)))
            (i32.store (i32.add (local.get $hits) (i32.shl (local.get $count) (i32.const 3)))
              (i32.shr_u (i32.sub (local.get $start) (local.get $text)) (i32.const 1)))
            (i32.store offset=4 (i32.add (local.get $hits) (i32.shl (local.get $count) (i32.const 3))) (local.get $key))
            (local.set $count (i32.add (local.get $count) (i32.const 1)))))
        (br $next)))
    (i32.store offset=524 (i32.const 0) (local.get $count))
    (i32.store offset=528 (i32.const 0) (local.get $n))))
