;; The engine's pass over every character of a segment (src/engine/prescan.ts), in WebAssembly
;; because a JavaScript loop over a string's characters runs at 100-200 MB/s on the machines we
;; measure on. Texts are UTF-16 code units, as JavaScript strings hold them.
;;
;; This file is a template: each name in braces is a value of the layout table src/engine/wasm/layout.ts
;; (memory offsets, sizes, hashing constants), substituted by `npm run wasm`
;; (scripts/build-wasm.ts) before assembling; prescan.ts writes the tables with the same table.
;; No layout number is written here (tests/engine/prescan-layout.test.ts checks it).
;; The tables (layout.ts says what each holds), at fixed offsets from address 0: INFO_AT,
;; RESULTS_AT (the *_AT results), ANCHORS_AT, BYTE_MASKS_AT, WORDS_AT, BUCKETS_AT, MAP_AT,
;; LISTS_AT; then the programs (per keyword of a list, longest first, i32 its id, i32 1 when it
;; is more than a negative label, i32 n, n bytes: its words in lower case, 1 between two words,
;; 0 at the end; an id of -1 ends the list), the automaton, the word hits and the text.
(module
  (memory (export "memory") 1)

  ;; The list of keywords whose first word has this hash, + 1; 0 when none.
  (func $lookup (param $key i32) (result i32)
    (local $slot i32) (local $stored i32)
    (local.set $slot (i32.shr_u (i32.mul (local.get $key) (i32.const {HASH_LOW_MULTIPLIER})) (i32.const {WORD_SLOT_SHIFT})))
    (loop $probe
      (local.set $stored (i32.load offset={WORDS_AT} (i32.shl (local.get $slot) (i32.const 3))))
      (if (i32.eqz (local.get $stored)) (then (return (i32.const 0))))
      (if (i32.eq (local.get $stored) (i32.add (local.get $key) (i32.const 1)))
        (then (return (i32.load offset={WORD_LIST_AT} (i32.shl (local.get $slot) (i32.const 3))))))
      (local.set $slot (i32.and (i32.add (local.get $slot) (i32.const 1)) (i32.const {WORD_SLOT_MASK})))
      (br $probe))
    (i32.const 0))

  ;; May the keywords of $list (1-based) follow the word that ends at $at? No only where none
  ;; of them can (`date` before `of`, `s` in `'s`), so JavaScript confirms far fewer words;
  ;; a non-ASCII character or the end of the text is left to JavaScript.
  (func $follows (param $list i32) (param $at i32) (param $end i32) (result i32)
    (local $entry i32) (local $c i32) (local $separators i32)
    (local.set $entry (i32.add (i32.const {LISTS_AT}) (i32.mul (i32.sub (local.get $list) (i32.const 1)) (i32.const {LIST_BYTES}))))
    (if (i32.load offset={LIST_WHOLE_WORD} (local.get $entry)) (then (return (i32.const 1))))
    (if (i32.ge_u (local.get $at) (local.get $end)) (then (return (i32.const 1))))
    (local.set $c (i32.load16_u (local.get $at)))
    (if (i32.ge_u (local.get $c) (i32.const 128)) (then (return (i32.const 1))))
    (if (i32.and (i32.load8_u offset={LIST_FOLLOWS} (i32.add (local.get $entry) (i32.shr_u (local.get $c) (i32.const 3))))
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
      (i32.and (i32.load8_u offset={LIST_FOLLOWS_SEPARATED} (i32.add (local.get $entry) (i32.shr_u (local.get $c) (i32.const 3))))
               (i32.shl (i32.const 1) (i32.and (local.get $c) (i32.const 7))))))

  ;; What keywords.ts's wordsAt does, for the keywords of a list whose program is at $program,
  ;; at the word starting at address $at: each word of a keyword in any case, up to three
  ;; separators between words, no letter or digit after the last. Returns the address after the
  ;; first (longest) that matches, with its id at CONFIRMED_ID_AT and whether it is more than a
  ;; negative label at CONFIRMED_POSITIVE_AT; 0 when none matches. A non-ASCII character separates words only when it is
  ;; the one Unicode space normalization keeps (at KEPT_SPACE_AT, from prescan.ts: U+1680).
  (func $confirm (param $program i32) (param $at i32) (result i32)
    (local $q i32) (local $pos i32) (local $b i32) (local $c i32) (local $separators i32)
    (block $none
      (loop $keyword
        (br_if $none (i32.lt_s (i32.load (local.get $program)) (i32.const 0)))
        (local.set $q (i32.add (local.get $program) (i32.const {PROGRAM_HEAD_BYTES})))
        (local.set $pos (local.get $at))
        (block $fail
          (loop $byte
            (local.set $b (i32.load8_u (local.get $q)))
            (local.set $q (i32.add (local.get $q) (i32.const 1)))
            ;; past the text are zeros, which end a keyword and match none of its characters
            (local.set $c (i32.load16_u (local.get $pos)))
            (if (i32.eqz (local.get $b))
              (then
                (br_if $fail (i32.lt_u (i32.sub (i32.or (local.get $c) (i32.const 0x20)) (i32.const 0x61)) (i32.const 26)))
                (br_if $fail (i32.lt_u (i32.sub (local.get $c) (i32.const 0x30)) (i32.const 10)))
                (i32.store offset={CONFIRMED_ID_AT} (i32.const 0) (i32.load (local.get $program)))
                (i32.store offset={CONFIRMED_POSITIVE_AT} (i32.const 0) (i32.load offset={PROGRAM_POSITIVE} (local.get $program)))
                (return (local.get $pos))))
            (if (i32.eq (local.get $b) (i32.const 1))
              (then
                (local.set $separators (i32.const 0))
                (block $stop
                  (loop $skip
                    (br_if $stop (i32.ge_u (local.get $separators) (i32.const 3)))
                    (br_if $stop (i32.eqz (i32.or
                      (i32.or (i32.or (i32.eq (local.get $c) (i32.const 32)) (i32.eq (local.get $c) (i32.const 95)))
                              (i32.or (i32.eq (local.get $c) (i32.const 45)) (i32.lt_u (i32.sub (local.get $c) (i32.const 9)) (i32.const 5))))
                      (i32.eq (local.get $c) (i32.load offset={KEPT_SPACE_AT} (i32.const 0))))))
                    (local.set $separators (i32.add (local.get $separators) (i32.const 1)))
                    (local.set $pos (i32.add (local.get $pos) (i32.const 2)))
                    (local.set $c (i32.load16_u (local.get $pos)))
                    (br $skip)))
                (br $byte)))
            ;; a letter or digit of the keyword: the text's, upper case folded to lower
            (br_if $fail (i32.ne (local.get $b)
              (select (i32.or (local.get $c) (i32.const 0x20)) (local.get $c) (i32.lt_u (i32.sub (local.get $c) (i32.const 65)) (i32.const 26)))))
            (local.set $pos (i32.add (local.get $pos) (i32.const 2)))
            (br $byte)))
        (local.set $program (i32.add (local.get $program) (i32.add (i32.const {PROGRAM_HEAD_BYTES}) (i32.load offset={PROGRAM_LENGTH} (local.get $program)))))
        (br $keyword)))
    (i32.const 0))

;; The text is read 64 characters at a time with SIMD: one comparison per 16 characters gives a
;; bit per character (is it a letter or digit? is it a shape's anchor?), and the loops then visit
;; only the set bits. A loop per character paid two unpredictable branches per word (where it
;; starts, where it ends); here a block of about eleven words pays one or two.

  ;; Bits i set when character $at + i (of 64) is an ASCII letter or digit, and when it is a
  ;; letter. The text is followed by zeros (prescan.ts), so a block may run past its end.
  (func $wordBits (param $at i32) (result i64 i64)
    (local $bits i64) (local $letterBits i64) (local $k i32) (local $v v128) (local $letters v128) (local $shift i64)
    (loop $quarter
      ;; characters ≥ 256 (and ≥ 32768, read as negative) narrow to 255 or 0: neither a letter nor a digit
      (local.set $v (i8x16.narrow_i16x8_u (v128.load (local.get $at)) (v128.load offset=16 (local.get $at))))
      (local.set $letters (i8x16.lt_u (i8x16.sub (v128.or (local.get $v) (i8x16.splat (i32.const 0x20))) (i8x16.splat (i32.const 0x61))) (i8x16.splat (i32.const 26))))
      (local.set $shift (i64.extend_i32_u (i32.shl (local.get $k) (i32.const 4))))
      (local.set $letterBits (i64.or (local.get $letterBits) (i64.shl (i64.extend_i32_u (i8x16.bitmask (local.get $letters))) (local.get $shift))))
      (local.set $bits (i64.or (local.get $bits)
        (i64.shl
          (i64.extend_i32_u (i8x16.bitmask (v128.or
            (local.get $letters)
            (i8x16.lt_u (i8x16.sub (local.get $v) (i8x16.splat (i32.const 0x30))) (i8x16.splat (i32.const 10))))))
          (local.get $shift))))
      (local.set $at (i32.add (local.get $at) (i32.const 32)))
      (local.set $k (i32.add (local.get $k) (i32.const 1)))
      (br_if $quarter (i32.lt_u (local.get $k) (i32.const 4))))
    (local.get $bits)
    (local.get $letterBits))

  ;; Bit i set when character $at + i (of 64) is in the anchor set: ASCII only, by its two
  ;; nibbles (ANCHORS_AT: per low nibble, the high nibbles that are in the set;
  ;; ANCHOR_NIBBLES_AT: per high nibble 0-7 its bit, 0 above).
  (func $anchorBits (param $at i32) (result i64)
    (local $bits i64) (local $k i32) (local $v v128)
    (loop $quarter
      (local.set $v (i8x16.narrow_i16x8_u (v128.load (local.get $at)) (v128.load offset=16 (local.get $at))))
      (local.set $bits (i64.or (local.get $bits)
        (i64.shl
          (i64.extend_i32_u (i8x16.bitmask (i8x16.ne
            (v128.and
              (i8x16.swizzle (v128.load offset={ANCHORS_AT} (i32.const 0)) (v128.and (local.get $v) (i8x16.splat (i32.const 15))))
              (i8x16.swizzle (v128.load offset={ANCHOR_NIBBLES_AT} (i32.const 0)) (i8x16.shr_u (local.get $v) (i32.const 4))))
            (v128.const i64x2 0 0))))
          (i64.extend_i32_u (i32.shl (local.get $k) (i32.const 4))))))
      (local.set $at (i32.add (local.get $at) (i32.const 32)))
      (local.set $k (i32.add (local.get $k) (i32.const 1)))
      (br_if $quarter (i32.lt_u (local.get $k) (i32.const 4))))
    (local.get $bits))

  ;; Bit i set when character $at + i (of 64) is a digit.
  (func $digitBits (param $at i32) (result i64)
    (local $bits i64) (local $k i32)
    (loop $quarter
      (local.set $bits (i64.or (local.get $bits)
        (i64.shl
          (i64.extend_i32_u (i8x16.bitmask
            (i8x16.lt_u (i8x16.sub (i8x16.narrow_i16x8_u (v128.load (local.get $at)) (v128.load offset=16 (local.get $at))) (i8x16.splat (i32.const 0x30)))
                        (i8x16.splat (i32.const 10)))))
          (i64.extend_i32_u (i32.shl (local.get $k) (i32.const 4))))))
      (local.set $at (i32.add (local.get $at) (i32.const 32)))
      (local.set $k (i32.add (local.get $k) (i32.const 1)))
      (br_if $quarter (i32.lt_u (local.get $k) (i32.const 4))))
    (local.get $bits))

  ;; The characters of a block (bits of $bits) that have one of $bits, or of $next (the block
  ;; after), at most $reach characters after them; none when $reach < 0.
  (func $before (param $bits i64) (param $next i64) (param $reach i32) (result i64)
    (local $j i32) (local $out i64)
    (if (i32.lt_s (local.get $reach) (i32.const 0)) (then (return (i64.const 0))))
    (local.set $out (local.get $bits))
    (local.set $j (i32.const 1))
    (block $done
      (loop $widen
        (br_if $done (i32.gt_s (local.get $j) (local.get $reach)))
        (local.set $out (i64.or (local.get $out)
          (i64.or (i64.shr_u (local.get $bits) (i64.extend_i32_u (local.get $j)))
                  (i64.shl (local.get $next) (i64.extend_i32_u (i32.sub (i32.const 64) (local.get $j)))))))
        (local.set $j (i32.add (local.get $j) (i32.const 1)))
        (br $widen)))
    (local.get $out))

  ;; Runs the shape automaton (src/engine/shapes.ts) over the text at $text ($n code units) and
  ;; stores the mask of the shapes seen at SHAPES_SEEN_AT. Entries of $transitions (16 bits) are where the
  ;; next state's row starts (next state × class count × 2 bytes), plus 1 when the next state
  ;; completes shapes, whose mask is at $accept + 8 × state; the info table holds each
  ;; character's class × 2. With $gated, every match of every shape has a digit at most $digitReach characters
  ;; from its start, or an anchor character at most $reach characters from it
  ;; (ShapeAutomaton): in the start state, the automaton skips to the next character that has
  ;; one after it, since nothing in between can start a match. Without, every character is read.
  (func (export "shapes")
    (param $text i32) (param $n i32) (param $transitions i32) (param $classCount i32) (param $accept i32)
    (param $gated i32) (param $reach i32) (param $digitReach i32)
    (local $p i32) (local $pos i32) (local $row i32) (local $entry i32) (local $c i32) (local $mask i64)
    (local $anchors i64) (local $nextAnchors i64) (local $digits i64) (local $nextDigits i64) (local $active i64) (local $left i64)
    (if (i32.ge_s (local.get $reach) (i32.const 0))
      (then (local.set $nextAnchors (call $anchorBits (local.get $text)))))
    (if (i32.ge_s (local.get $digitReach) (i32.const 0))
      (then (local.set $nextDigits (call $digitBits (local.get $text)))))
    (block $done
      (loop $block
        (br_if $done (i32.ge_u (local.get $p) (local.get $n)))
        (if (i32.eqz (local.get $gated))
          (then (local.set $active (i64.const -1)))
          (else
            (if (i32.ge_s (local.get $reach) (i32.const 0))
              (then
                (local.set $anchors (local.get $nextAnchors))
                (local.set $nextAnchors (call $anchorBits (i32.add (local.get $text) (i32.shl (i32.add (local.get $p) (i32.const 64)) (i32.const 1)))))))
            (if (i32.ge_s (local.get $digitReach) (i32.const 0))
              (then
                (local.set $digits (local.get $nextDigits))
                (local.set $nextDigits (call $digitBits (i32.add (local.get $text) (i32.shl (i32.add (local.get $p) (i32.const 64)) (i32.const 1)))))))
            (local.set $active (i64.or
              (call $before (local.get $anchors) (local.get $nextAnchors) (local.get $reach))
              (call $before (local.get $digits) (local.get $nextDigits) (local.get $digitReach))))))
        (block $blockDone
          (loop $feed
            (br_if $blockDone (i32.ge_u (local.get $pos) (i32.add (local.get $p) (i32.const 64))))
            (br_if $done (i32.ge_u (local.get $pos) (local.get $n)))
            (if (i32.eqz (local.get $row))
              (then
                ;; nothing in progress: on to the next active character of the block, if any
                (local.set $left (i64.and (local.get $active)
                  (i64.shl (i64.const -1) (i64.extend_i32_u (i32.sub (local.get $pos) (local.get $p))))))
                (if (i64.eqz (local.get $left))
                  (then
                    (local.set $pos (i32.add (local.get $p) (i32.const 64)))
                    (br $blockDone)))
                (local.set $pos (i32.add (local.get $p) (i32.wrap_i64 (i64.ctz (local.get $left)))))
                (br_if $done (i32.ge_u (local.get $pos) (local.get $n)))))
            (local.set $c (i32.load16_u (i32.add (local.get $text) (i32.shl (local.get $pos) (i32.const 1)))))
            ;; $row and the info table are byte offsets: one add, one load, one and a character
            ;; (the info table's entry 128 stands for every non-ASCII character)
            (local.set $entry (i32.load16_u (i32.add (i32.add (local.get $transitions) (local.get $row))
              (i32.load16_u offset={INFO_AT} (i32.shl (select (local.get $c) (i32.const 128) (i32.lt_u (local.get $c) (i32.const 128))) (i32.const 1))))))
            (local.set $row (i32.and (local.get $entry) (i32.const -2)))
            (if (i32.and (local.get $entry) (i32.const 1))
              (then
                (local.set $mask (i64.or (local.get $mask)
                  (i64.load (i32.add (local.get $accept)
                    (i32.shl (i32.div_u (local.get $row) (i32.shl (local.get $classCount) (i32.const 1))) (i32.const 3))))))))
            (local.set $pos (i32.add (local.get $pos) (i32.const 1)))
            (br $feed)))
        (local.set $p (i32.add (local.get $p) (i32.const 64)))
        (br $block)))
    (i64.store offset={SHAPES_SEEN_AT} (i32.const 0) (local.get $mask)))

  ;; Hashes each word (a run of ASCII letters and digits) of the text at $text ($n code units),
  ;; from index $from (a word's start; words starting with a digit are let go when $digitWords
  ;; is 0, as no keyword starts with one), as keywords.ts's hashWord does: its first eight
  ;; characters in lower case and its length. For each word that is some keywords' first word,
  ;; writes to $hits, up to $cap: (start, -1 - id, end) of the keyword found there (see
  ;; $confirm), or (start, list + 1, 0) for JavaScript to confirm. Stores at WORDS_WRITTEN_AT how
  ;; many, at RESUME_AT where the first word left out starts ($n when none was), for the next
  ;; call, and at POSITIVE_WORDS_AT how many are (or may be) more than a negative label (without one, no rule has a label, a nearby
  ;; word or a term in the text, and the engine needs no keyword at all), and at MARKERS_SEEN_AT the marker
  ;; bits of the lists its words hashed to (all bits when a word was too long to hash), over all
  ;; calls for the text.
  (func (export "words") (param $text i32) (param $from i32) (param $n i32) (param $hits i32) (param $cap i32) (param $digitWords i32)
    (local $p i32) (local $bits i64) (local $letterBits i64) (local $starts i64) (local $carry i64) (local $nextP i32) (local $nextCarry i64)
    (local $s i32) (local $len i32) (local $start i32) (local $x i64) (local $h i32)
    (local $list i32) (local $count i32) (local $resume i32) (local $end i32) (local $positives i32)
    (local $entry i32) (local $code i32) (local $hitEnd i32) (local $positive i32) (local $program i32) (local $matched i32) (local $record i32)
    (local $markers i32) (local $fastLength i32)
    (local.set $p (local.get $from))
    (local.set $resume (local.get $n))
    (local.set $end (i32.add (local.get $text) (i32.shl (local.get $n) (i32.const 1))))
    (block $done
      (loop $block
        (br_if $done (i32.ge_u (local.get $p) (local.get $n)))
        (call $wordBits (i32.add (local.get $text) (i32.shl (local.get $p) (i32.const 1))))
        (local.set $letterBits)
        (local.set $bits)
        ;; a word starts where a letter or digit follows something else ($carry: the character
        ;; before the block was one); with no keyword starting with a digit, only letters start one
        (local.set $starts (i64.and (local.get $bits) (i64.xor (i64.or (i64.shl (local.get $bits) (i64.const 1)) (local.get $carry)) (i64.const -1))))
        (if (i32.eqz (local.get $digitWords)) (then (local.set $starts (i64.and (local.get $starts) (local.get $letterBits)))))
        (local.set $nextP (i32.add (local.get $p) (i32.const 64)))
        (local.set $nextCarry (i64.shr_u (local.get $bits) (i64.const 63)))
        (block $blockDone
          (loop $word
            (br_if $blockDone (i64.eqz (local.get $starts)))
            (local.set $s (i32.wrap_i64 (i64.ctz (local.get $starts))))
            (local.set $len (i32.wrap_i64 (i64.ctz (i64.xor (i64.shr_u (local.get $bits) (i64.extend_i32_u (local.get $s))) (i64.const -1)))))
            (if (i32.ge_u (i32.add (local.get $s) (local.get $len)) (i32.const 64))
              (then
                ;; it may go on past the block: the next block starts with it, unless it is the
                ;; whole block (64 characters or more: no keyword's first word is that long)
                (if (local.get $s)
                  (then
                    (local.set $nextP (i32.add (local.get $p) (local.get $s)))
                    (local.set $nextCarry (i64.const 0)))
                  ;; not hashed: it may be any marker word
                  (else (local.set $markers (i32.const -1))))
                (br $blockDone)))
            (local.set $start (i32.add (local.get $p) (local.get $s)))
            ;; its first eight characters as bytes, in lower case (`| 0x20` keeps digits), the rest zeroed
            (local.set $x (i64.and
              (i64.or (i64x2.extract_lane 0 (i8x16.narrow_i16x8_u
                        (v128.load (i32.add (local.get $text) (i32.shl (local.get $start) (i32.const 1))))
                        (v128.const i64x2 0 0)))
                      (i64.const 0x2020202020202020))
              ;; (at BYTE_MASKS_AT: per length up to 8, the mask of that many bytes)
              (i64.load offset={BYTE_MASKS_AT} (i32.shl (select (local.get $len) (i32.const 8) (i32.lt_u (local.get $len) (i32.const 8))) (i32.const 3)))))
            (local.set $h (i32.xor
              (i32.mul (i32.wrap_i64 (local.get $x)) (i32.const {HASH_LOW_MULTIPLIER}))
              (i32.mul (i32.xor (i32.wrap_i64 (i64.shr_u (local.get $x) (i64.const 32))) (local.get $len)) (i32.const {HASH_HIGH_MULTIPLIER}))))
            ;; the list of the word's bucket: not checked against the word's whole hash, since
            ;; what follows compares the keywords themselves with the text
            (local.set $list (i32.load16_u offset={BUCKETS_AT} (i32.shl (i32.shr_u (local.get $h) (i32.const {BUCKET_SHIFT})) (i32.const 1))))
            (if (local.get $list)
              (then
                (if (i32.eq (local.get $list) (i32.const {SHARED_BUCKET}))
                  (then (local.set $list (call $lookup (i32.shr_u (local.get $h) (i32.const 2))))))
                (if (local.get $list)
                  (then
                    (local.set $entry (i32.mul (i32.sub (local.get $list) (i32.const 1)) (i32.const {LIST_BYTES})))
                    (local.set $markers (i32.or (local.get $markers) (i32.load offset={LISTS_MARKERS_AT} (local.get $entry))))
                    (block $skip
                      (local.set $positive (i32.load offset={LISTS_POSITIVE_AT} (local.get $entry)))
                      (local.set $fastLength (i32.load offset={LISTS_FAST_LENGTH_AT} (local.get $entry)))
                      (if (local.get $fastLength)
                        (then
                          ;; the list is one keyword, one word of at most eight characters: it is
                          ;; this word exactly or not at all (the word ends at a boundary)
                          (br_if $skip (i32.or (i32.ne (local.get $fastLength) (local.get $len))
                                               (i64.ne (i64.load offset={LISTS_FAST_WORD_AT} (local.get $entry)) (local.get $x))))
                          (local.set $code (i32.sub (i32.const -1) (i32.load offset={LISTS_FAST_ID_AT} (local.get $entry))))
                          (local.set $hitEnd (i32.add (local.get $start) (local.get $len))))
                        (else
                          (br_if $skip (i32.eqz (call $follows (local.get $list)
                            (i32.add (local.get $text) (i32.shl (i32.add (local.get $start) (local.get $len)) (i32.const 1)))
                            (local.get $end))))
                          (local.set $code (local.get $list))
                          (local.set $hitEnd (i32.const 0))
                          (local.set $program (i32.load offset={LISTS_PROGRAM_AT} (local.get $entry)))
                          (if (local.get $program)
                            (then
                              (local.set $matched (call $confirm (local.get $program) (i32.add (local.get $text) (i32.shl (local.get $start) (i32.const 1)))))
                              (br_if $skip (i32.eqz (local.get $matched)))
                              (if (i32.ne (local.get $matched) (i32.const 1))
                                (then
                                  (local.set $code (i32.sub (i32.const -1) (i32.load offset={CONFIRMED_ID_AT} (i32.const 0))))
                                  (local.set $positive (i32.load offset={CONFIRMED_POSITIVE_AT} (i32.const 0)))
                                  (local.set $hitEnd (i32.shr_u (i32.sub (local.get $matched) (local.get $text)) (i32.const 1)))))))))
                      (if (i32.ge_u (local.get $count) (local.get $cap))
                        (then
                          ;; full: the words from here on wait for the next call
                          (local.set $resume (local.get $start))
                          (br $done)))
                      (local.set $record (i32.add (local.get $hits) (i32.mul (local.get $count) (i32.const {HIT_BYTES}))))
                      (i32.store (local.get $record) (local.get $start))
                      (i32.store offset={HIT_CODE} (local.get $record) (local.get $code))
                      (i32.store offset={HIT_END} (local.get $record) (local.get $hitEnd))
                      (local.set $count (i32.add (local.get $count) (i32.const 1)))
                      (local.set $positives (i32.add (local.get $positives) (local.get $positive))))))))
            (local.set $starts (i64.and (local.get $starts) (i64.sub (local.get $starts) (i64.const 1))))
            (br $word)))
        (local.set $p (local.get $nextP))
        (local.set $carry (local.get $nextCarry))
        (br $block)))
    (i32.store offset={RESUME_AT} (i32.const 0) (local.get $resume))
    (i32.store offset={WORDS_WRITTEN_AT} (i32.const 0) (local.get $count))
    (i32.store offset={POSITIVE_WORDS_AT} (i32.const 0) (local.get $positives))
    (i32.store offset={MARKERS_SEEN_AT} (i32.const 0)
      (select (local.get $markers) (i32.or (local.get $markers) (i32.load offset={MARKERS_SEEN_AT} (i32.const 0))) (i32.eqz (local.get $from)))))

  ;; Normalizes the text at $text ($n code units) in place (src/engine/normalize.ts) and
  ;; returns its new length; the results say whether it changed. Most texts hold nothing to
  ;; normalize: they are read, not written.
  (func (export "normalize") (param $text i32) (param $n i32) (result i32)
    (local $read i32) (local $write i32) (local $end i32) (local $c i32) (local $stop i32) (local $low v128) (local $high v128)
    (local.set $read (local.get $text))
    (local.set $end (i32.add (local.get $text) (i32.shl (local.get $n) (i32.const 1))))
    (i32.store offset={TEXT_CHANGED_AT} (i32.const 0) (i32.const 0))
    ;; up to the first character that normalization changes, 16 at a time while all are ASCII
    ;; (the text is followed by zeros, so the last 16 may run past its end)
    (block $found
      (loop $look
        (if (i32.ge_u (local.get $read) (local.get $end)) (then (return (local.get $n))))
        (if (i32.eqz (v128.any_true (v128.and (v128.or (v128.load (local.get $read)) (v128.load offset=16 (local.get $read)))
                                              (i16x8.splat (i32.const 0xff80)))))
          (then
            (local.set $read (i32.add (local.get $read) (i32.const 32)))
            (br $look)))
        (local.set $stop (select (local.get $end) (i32.add (local.get $read) (i32.const 32))
                                 (i32.lt_u (local.get $end) (i32.add (local.get $read) (i32.const 32)))))
        (loop $each
          (local.set $c (i32.load16_u (local.get $read)))
          (if (i32.ge_u (local.get $c) (i32.const 128))
            (then
              (br_if $found (i32.ne (i32.load16_u offset={MAP_AT} (i32.shl (local.get $c) (i32.const 1))) (local.get $c)))))
          (local.set $read (i32.add (local.get $read) (i32.const 2)))
          (br_if $each (i32.lt_u (local.get $read) (local.get $stop))))
        (br $look)))
    (i32.store offset={TEXT_CHANGED_AT} (i32.const 0) (i32.const 1))
    ;; from there on, each character rewritten (zero-width ones and the like dropped)
    (local.set $write (local.get $read))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $read) (local.get $end)))
        ;; 16 ASCII characters are copied as they are (both halves read before either is written)
        (if (i32.le_u (i32.add (local.get $read) (i32.const 32)) (local.get $end))
          (then
            (local.set $low (v128.load (local.get $read)))
            (local.set $high (v128.load offset=16 (local.get $read)))
            (if (i32.eqz (v128.any_true (v128.and (v128.or (local.get $low) (local.get $high)) (i16x8.splat (i32.const 0xff80)))))
              (then
                (v128.store (local.get $write) (local.get $low))
                (v128.store offset=16 (local.get $write) (local.get $high))
                (local.set $read (i32.add (local.get $read) (i32.const 32)))
                (local.set $write (i32.add (local.get $write) (i32.const 32)))
                (br $next)))))
        (local.set $c (i32.load16_u (local.get $read)))
        (local.set $read (i32.add (local.get $read) (i32.const 2)))
        (if (i32.ge_u (local.get $c) (i32.const 128))
          (then
            (local.set $c (i32.load16_u offset={MAP_AT} (i32.shl (local.get $c) (i32.const 1))))
            (br_if $next (i32.eqz (local.get $c)))))
        (i32.store16 (local.get $write) (local.get $c))
        (local.set $write (i32.add (local.get $write) (i32.const 2)))
        (br $next)))
    (i32.shr_u (i32.sub (local.get $write) (local.get $text)) (i32.const 1))))
