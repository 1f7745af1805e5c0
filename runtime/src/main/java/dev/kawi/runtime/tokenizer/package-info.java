/**
 * The tokenizer: text to token ids and back, as stored in a model file's {@code tokenizer}
 * object ({@link dev.kawi.weights.TokenizerSpec}), in the manner of SentencePiece. Entry point:
 * {@link dev.kawi.runtime.tokenizer.Tokenizer}.
 *
 * <h2>Encoding</h2>
 * <ol>
 * <li><b>Normalization</b> ({@code Tokenizer.normalize}): unpaired UTF-16 surrogates (which no
 *     UTF-8 text contains) become U+FFFD; then Unicode NFC if the spec says {@code nfc}; then
 *     whitespace: every maximal run of whitespace becomes a single U+0020, and whitespace at the
 *     start or end is removed. Whitespace means the 25 code points with the Unicode
 *     {@code White_Space} property (tab, LF, VT, FF, CR, space, U+0085, no-break space U+00A0,
 *     U+1680, U+2000..U+200A, U+2028, U+2029, U+202F, U+205F, U+3000) and also the boundary
 *     marker ▁ U+2581 itself, which decoding could not tell from an encoded space anyway. So
 *     {@code "  a\t\tb\n"} normalizes to {@code "a b"}. Zero-width characters (U+200B, U+FEFF),
 *     other control characters (U+0000, U+001C..U+001F, U+007F, ...) and lone combining marks
 *     are not whitespace and are kept.</li>
 * <li><b>Words</b>: the normalized text is split at its spaces. Each word gets the boundary
 *     marker ▁ in front, except the first word when the spec has no {@code add_dummy_prefix}:
 *     {@code "Hello world"} becomes the words {@code "▁Hello"} and {@code "▁world"}. Pieces
 *     never span two words. Empty (or all-whitespace) text encodes to no ids.</li>
 * <li><b>Segmentation</b> of each word: BPE starts from one symbol per code point and applies
 *     merges lowest rank first, leftmost first among equal ranks; unigram picks the segmentation
 *     with the highest sum of scores (Viterbi; ties go to the longest last piece). Segmentations
 *     of recent words are cached; the cache never changes results.</li>
 * <li><b>Characters without a piece</b> become their UTF-8 bytes as pieces {@code <0x00>} ..
 *     {@code <0xFF>} with {@code byte_fallback}; else the piece {@code <unk>} (one per character;
 *     its id is {@code Tokenizer.unkId()}); with neither, encoding throws
 *     {@code IllegalArgumentException}. Byte pieces never take part in BPE merges; in unigram a
 *     character without a single-character piece is scored as the lowest piece score minus 10.</li>
 * </ol>
 * <b>Reserved pieces</b>: a piece of the form {@code <0xHH>} (upper-case hex) is a byte piece,
 * any other piece of the form {@code <...>} (at least three characters) is special
 * ({@code <pad>}, {@code <s>}, {@code </s>}, {@code <unk>}, ...). Encoding never produces either
 * from text: they are not matched in unigram, and BPE merges whose operands or result are one of
 * them are ignored. So the text {@code "<s>"} is encoded through the pieces {@code <}, {@code s},
 * {@code >} (or their bytes), never as the id of {@code <s>}.
 *
 * <h2>Decoding</h2>
 * Piece texts are concatenated; each run of consecutive byte pieces is decoded as UTF-8, a
 * malformed sequence becoming U+FFFD (as {@code new String(bytes, UTF_8)} replaces it); every ▁
 * becomes a space (also one spelled by byte pieces); special pieces are skipped by default
 * ({@code Specials.SKIP}; skipped pieces do not interrupt a byte run) or kept as their text
 * ({@code Specials.KEEP}); with {@code add_dummy_prefix}, one leading space is removed. An id
 * outside {@code [0, size())} throws {@code IllegalArgumentException} naming the id and its
 * position.
 *
 * <h2>What round-trips</h2>
 * For every string {@code x} (any code points: emoji, CJK, control characters, lone combining
 * marks, unpaired surrogates), when byte fallback is on or every character has a piece:
 * {@code decode(encode(x)).equals(normalize(x))}. Hence {@code x} itself comes back exactly,
 * char for char, if and only if {@code normalize(x).equals(x)}: {@code x} is in NFC (when the
 * spec asks for NFC), has no unpaired surrogate and no ▁, and its only whitespace is single
 * U+0020 spaces between non-whitespace characters (none at the start or end). Whitespace
 * other than that is not preserved: tabs, newlines, no-break spaces and runs of spaces come back
 * as one space, leading and trailing whitespace is dropped. Characters encoded as {@code <unk>}
 * come back as nothing.
 *
 * <h2>Guarantees</h2>
 * Deterministic (the same text gives the same ids, whatever the thread, the history or the
 * cache state); a {@code Tokenizer} is immutable and thread-safe; a null text throws
 * {@code NullPointerException}.
 */
package dev.kawi.runtime.tokenizer;
