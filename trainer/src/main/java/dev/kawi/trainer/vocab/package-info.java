/**
 * Learning the subword vocabulary: a joint SentencePiece-style BPE vocabulary over both sides of
 * a parallel corpus, produced as the {@link dev.kawi.weights.TokenizerSpec} that the runtime's
 * {@code dev.kawi.runtime.tokenizer.Tokenizer} reads, so training and translation segment text
 * identically.
 *
 * <pre>{@code
 * WordCounts words = new WordCounts();
 * TsvReader.read(Path.of("train.de-en.tsv"), BadLines.FAIL, (de, en, line) -> { words.addText(de); words.addText(en); });
 * LearnedVocab v = BpeLearner.learn(words, VocabOptions.DEFAULTS.withVocabSize(8000));
 * VocabFiles.write(v.spec(), Path.of("vocab.json"));   // the .kawi tokenizer object, as JSON
 * }</pre>
 *
 * <p>{@link dev.kawi.trainer.vocab.TsvReader} reads {@code SOURCE<TAB>TARGET} lines and reports
 * malformed ones by file and line; {@link dev.kawi.trainer.vocab.WordCounts} normalizes text as
 * the runtime does and counts words; {@link dev.kawi.trainer.vocab.BpeLearner} learns the merges
 * (the vocabulary layout, tie-breaking and why the runtime reproduces the training segmentation
 * exactly are in its documentation); {@link dev.kawi.trainer.vocab.VocabFiles} stores the result.
 */
package dev.kawi.trainer.vocab;
