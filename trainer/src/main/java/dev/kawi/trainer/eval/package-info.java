/**
 * Translation quality metrics computed exactly as sacreBLEU 2.x does: corpus and sentence BLEU
 * ({@link dev.kawi.trainer.eval.Bleu}, with the {@code 13a} tokenizer,
 * {@link dev.kawi.trainer.eval.Tokenizer13a}) and chrF / chrF++ ({@link dev.kawi.trainer.eval.Chrf}).
 *
 * <p>Both metrics reduce each segment to integer sufficient statistics that add up over a corpus
 * ({@link dev.kawi.trainer.eval.BleuStats}, {@link dev.kawi.trainer.eval.ChrfStats}), so a
 * validation loop can score sentence by sentence with an accumulator and never keep the texts.
 * The statistics match sacreBLEU's exactly; the scores follow the same floating-point operations in
 * the same order, so they agree to the last bit or two (the only difference can come from
 * {@code exp} and {@code log}, which Java and the C library may round differently by one ulp).
 * The formatted strings use Python's rounding (exact binary value, half to even).
 *
 * <p>Checked against sacreBLEU 2.6.0 on 15 systems of 400 real sentence pairs
 * ({@code trainer/src/test/fixtures/make_score_fixtures.py}).
 */
package dev.kawi.trainer.eval;
