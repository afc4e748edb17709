;; The engine's pass over every character of a segment (src/engine/prescan.ts), in WebAssembly
;; because a JavaScript loop over a string's characters runs at 100-200 MB/s on the machines we
;; measure on. Texts are UTF-16 code units, as JavaScript strings hold them.
;;
;; Tables, at fixed offsets from address 0 (written by prescan.ts):
;;      0  info: per ASCII character, an i16: bits 0-7 its lower-case form if a letter or digit
;;         (else 0), bits 8-14 its class in the shape automaton, bit 15 set when that class
;;         leaves the automaton's start state; entry 128 for every non-ASCII character (class 0,
;;         in no word)
;;    512  results: i64 shapes seen, i32 text changed by normalize, i32 unused, i32 words
;;         written, i32 resume
;;   1024  words: 4,096 slots of (hash + 1, list), open addressing from slotOf(hash): the hashes
;;         of keywords' first words, and which list of keywords starting with it (0 = empty slot)
;;  33792  buckets: 65,536 bits, set where some keyword's first word hashes (bucketOf): most
;;         words are no keyword's first word and are let go after one bit test
;;  41984  map: per UTF-16 code unit, what normalization makes of it (0: dropped; below 128 unused)
;; 173056  lists: per list of keywords, 36 bytes: i32 1 when one of them is a whole word (any
;;         character may follow), 128 bits: the ASCII characters that may come right after the
;;         first word, 128 bits: those that may come after one to three separators (space,
;;         tab, line breaks, `_`, `-`)
(module
  (memory (export "memory") 1)

  ;; The list of keywords whose first word has this hash, + 1; 0 when none.
  (func $lookup (param $key i32) (result i32)
    (local $slot i32) (local $stored i32)
    (local.set $slot (i32.shr_u (i32.mul (local.get $key) (i32.const 0x9e3779b1)) (i32.const 20)))
    (loop $probe
      (local.set $stored (i32.load offset=1024 (i32.shl (local.get $slot) (i32.const 3))))
      (if (i32.eqz (local.get $stored)) (then (return (i32.const 0))))
      (if (i32.eq (local.get $stored) (i32.add (local.get $key) (i32.const 1)))
        (then (return (i32.load offset=1028 (i32.shl (local.get $slot) (i32.const 3))))))
      (local.set $slot (i32.and (i32.add (local.get $slot) (i32.const 1)) (i32.const 4095)))
      (br $probe))
    (i32.const 0))

  ;; May the keywords of $list (1-based) follow the word that ends at $at? No only where none
  ;; of them can (`date` before `of`, `s` in `'s`), so JavaScript confirms far fewer words;
  ;; a non-ASCII character or the end of the text is left to JavaScript.
  (func $follows (param $list i32) (param $at i32) (param $end i32) (result i32)
    (local $entry i32) (local $c i32) (local $separators i32)
    (local.set $entry (i32.add (i32.const 173056) (i32.mul (i32.sub (local.get $list) (i32.const 1)) (i32.const 36))))
    (if (i32.load (local.get $entry)) (then (return (i32.const 1))))
    (if (i32.ge_u (local.get $at) (local.get $end)) (then (return (i32.const 1))))
    (local.set $c (i32.load16_u (local.get $at)))
    (if (i32.ge_u (local.get $c) (i32.const 128)) (then (return (i32.const 1))))
    (if (i32.and (i32.load8_u offset=4 (i32.add (local.get $entry) (i32.shr_u (local.get $c) (i32.const 3))))
                 (i32.shl (i32.const 1) (i32.and (local.get $c) (i32.const 7))))
      (then (return (i32.const 1))))
    (block $stop
      (loop $skip
        (br_if $stop (i32.ge_u (local.get $separators) (i32.const 3)))
        (br_if $stop (i32.eqz (i32.or (i32.or (i32.eq (local.get $c) (i32.const 32)) (i32.eq (local.get $c) (i32.const 95)))
                                      (i32.or (i32.eq (local.get $c) (i32.const 45)) (i32.lt_u (i32.sub (local.get $c) (i32.const 9)) (i32.const 5))))))
        (local.set $separators (i32.add (local.get $separators) (i32.const 1)))
        (local.set $at (i32.add (local.get $at) (i32.const 2)))
        (if (i32.ge_u (local.get $at) (local.get $end)) (then (return (i32.const 0))))
        (local.set $c (i32.load16_u (local.get $at)))
        (if (i32.ge_u (local.get $c) (i32.const 128)) (then (return (i32.const 1))))
        (br $skip)))
    (if (i32.eqz (local.get $separators)) (then (return (i32.const 0))))
    (i32.ne (i32.const 0)
      (i32.and (i32.load8_u offset=20 (i32.add (local.get $entry) (i32.shr_u (local.get $c) (i32.const 3))))
               (i32.shl (i32.const 1) (i32.and (local.get $c) (i32.const 7))))))

  ;; Over the text at $text ($n code units), from index $from:
  ;; - runs the shape automaton (src/engine/shapes.ts): entries of $transitions are
  ;;   (next state × class count) × 2, plus 1 when the next state completes shapes, whose mask
  ;;   is at $accept + 8 × state (stored only when $from is 0: a resumed call starts mid-text);
  ;; - hashes each word (a run of ASCII letters and digits) as keywords.ts does and writes
  ;;   (start, list + 1) to $hits for each word that is some keywords' first word, up to $cap;
  ;;   past that the shapes go on (when $from is 0) but the words wait for a call from the
  ;;   resume index, the start of the first word left out ($n when none was).
  (func (export "scan")
    (param $text i32) (param $from i32) (param $n i32) (param $transitions i32) (param $classCount i32)
    (param $accept i32) (param $hits i32) (param $cap i32)
    (local $i i32) (local $end i32) (local $c i32) (local $info i32) (local $fold i32)
    (local $row i32) (local $entry i32) (local $mask i64) (local $start i32)
    (local $h i32) (local $list i32) (local $count i32) (local $shapes i32) (local $bucket i32) (local $resume i32)
    (local.set $i (i32.add (local.get $text) (i32.shl (local.get $from) (i32.const 1))))
    (local.set $end (i32.add (local.get $text) (i32.shl (local.get $n) (i32.const 1))))
    (local.set $shapes (i32.eqz (local.get $from)))
    (local.set $resume (local.get $n))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $i) (local.get $end)))
        (local.set $c (i32.load16_u (local.get $i)))
        ;; the table's entry 128 stands for every non-ASCII character
        (local.set $info (i32.load16_u (i32.shl (select (local.get $c) (i32.const 128) (i32.lt_u (local.get $c) (i32.const 128))) (i32.const 1))))
        ;; shapes: in the start state, most characters (letters, spaces) start nothing
        (if (i32.or (local.get $row) (i32.shr_u (local.get $info) (i32.const 15)))
          (then
            (local.set $entry (i32.load (i32.add (local.get $transitions)
              (i32.shl (i32.add (local.get $row) (i32.and (i32.shr_u (local.get $info) (i32.const 8)) (i32.const 0x7f))) (i32.const 2)))))
            (local.set $row (i32.shr_u (local.get $entry) (i32.const 1)))
            (if (i32.and (local.get $entry) (i32.const 1))
              (then
                (local.set $mask (i64.or (local.get $mask)
                  (i64.load (i32.add (local.get $accept) (i32.shl (i32.div_u (local.get $row) (local.get $classCount)) (i32.const 3))))))))))
        (local.set $fold (i32.and (local.get $info) (i32.const 0xff)))
        (if (i32.eqz (local.get $fold))
          (then
            (local.set $i (i32.add (local.get $i) (i32.const 2)))
            (br $next)))
        ;; a word: its characters in a tighter loop; the character that ends it goes round again
        (local.set $start (local.get $i))
        (local.set $h (i32.const 0))
        (block $wordEnd
          (loop $word
            (local.set $h (i32.xor (i32.rotl (local.get $h) (i32.const 5)) (local.get $fold)))
            (local.set $i (i32.add (local.get $i) (i32.const 2)))
            (br_if $wordEnd (i32.ge_u (local.get $i) (local.get $end)))
            (local.set $c (i32.load16_u (local.get $i)))
            (br_if $wordEnd (i32.ge_u (local.get $c) (i32.const 128)))
            (local.set $info (i32.load16_u (i32.shl (local.get $c) (i32.const 1))))
            (local.set $fold (i32.and (local.get $info) (i32.const 0xff)))
            (br_if $wordEnd (i32.eqz (local.get $fold)))
            (if (i32.or (local.get $row) (i32.shr_u (local.get $info) (i32.const 15)))
              (then
                (local.set $entry (i32.load (i32.add (local.get $transitions)
                  (i32.shl (i32.add (local.get $row) (i32.and (i32.shr_u (local.get $info) (i32.const 8)) (i32.const 0x7f))) (i32.const 2)))))
                (local.set $row (i32.shr_u (local.get $entry) (i32.const 1)))
                (if (i32.and (local.get $entry) (i32.const 1))
                  (then
                    (local.set $mask (i64.or (local.get $mask)
                      (i64.load (i32.add (local.get $accept) (i32.shl (i32.div_u (local.get $row) (local.get $classCount)) (i32.const 3))))))))))
            (br $word)))
        (local.set $h (i32.and (local.get $h) (i32.const 0x3fffffff)))
        (local.set $bucket (i32.shr_u (i32.mul (local.get $h) (i32.const 0x9e3779b1)) (i32.const 16)))
        (local.set $list (i32.const 0))
        (if (i32.and (i32.load8_u offset=33792 (i32.shr_u (local.get $bucket) (i32.const 3)))
                     (i32.shl (i32.const 1) (i32.and (local.get $bucket) (i32.const 7))))
          (then
            (local.set $list (call $lookup (local.get $h)))
            (if (local.get $list)
              (then
                (if (i32.eqz (call $follows (local.get $list) (local.get $i) (local.get $end)))
                  (then (local.set $list (i32.const 0))))))))
        (if (local.get $list)
          (then
            (if (i32.lt_u (local.get $count) (local.get $cap))
              (then
                (i32.store (i32.add (local.get $hits) (i32.shl (local.get $count) (i32.const 3)))
                  (i32.shr_u (i32.sub (local.get $start) (local.get $text)) (i32.const 1)))
                (i32.store offset=4 (i32.add (local.get $hits) (i32.shl (local.get $count) (i32.const 3))) (local.get $list))
                (local.set $count (i32.add (local.get $count) (i32.const 1))))
              (else
                ;; full: the words from here on wait for the next call; the shapes go on to the end
                (if (i32.eq (local.get $resume) (local.get $n))
                  (then (local.set $resume (i32.shr_u (i32.sub (local.get $start) (local.get $text)) (i32.const 1)))))
                (br_if $done (i32.eqz (local.get $shapes)))))))
        (br $next)))
    (i32.store offset=532 (i32.const 0) (local.get $resume))
    (if (local.get $shapes)
      (then (i64.store offset=512 (i32.const 0) (local.get $mask))))
    (i32.store offset=528 (i32.const 0) (local.get $count)))

  ;; Normalizes the text at $text ($n code units) in place (src/engine/normalize.ts) and
  ;; returns its new length; the results say whether it changed. Most texts hold nothing to
  ;; normalize: they are read, not written.
  (func (export "normalize") (param $text i32) (param $n i32) (result i32)
    (local $read i32) (local $write i32) (local $end i32) (local $c i32) (local $mapped i32)
    (local.set $read (local.get $text))
    (local.set $end (i32.add (local.get $text) (i32.shl (local.get $n) (i32.const 1))))
    (i32.store offset=520 (i32.const 0) (i32.const 0))
    ;; up to the first character that normalization changes
    (block $found
      (loop $look
        (if (i32.ge_u (local.get $read) (local.get $end)) (then (return (local.get $n))))
        (local.set $c (i32.load16_u (local.get $read)))
        (if (i32.ge_u (local.get $c) (i32.const 128))
          (then
            (br_if $found (i32.ne (i32.load16_u offset=41984 (i32.shl (local.get $c) (i32.const 1))) (local.get $c)))))
        (local.set $read (i32.add (local.get $read) (i32.const 2)))
        (br $look)))
    (i32.store offset=520 (i32.const 0) (i32.const 1))
    ;; from there on, each character rewritten (zero-width ones and the like dropped)
    (local.set $write (local.get $read))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $read) (local.get $end)))
        (local.set $c (i32.load16_u (local.get $read)))
        (local.set $read (i32.add (local.get $read) (i32.const 2)))
        (if (i32.ge_u (local.get $c) (i32.const 128))
          (then
            (local.set $c (i32.load16_u offset=41984 (i32.shl (local.get $c) (i32.const 1))))
            (br_if $next (i32.eqz (local.get $c)))))
        (i32.store16 (local.get $write) (local.get $c))
        (local.set $write (i32.add (local.get $write) (i32.const 2)))
        (br $next)))
    (i32.shr_u (i32.sub (local.get $write) (local.get $text)) (i32.const 1))))
