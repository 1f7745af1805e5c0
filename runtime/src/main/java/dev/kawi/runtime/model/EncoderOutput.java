package dev.kawi.runtime.model;

import java.lang.foreign.MemorySegment;

/**
 * The encoder's result for a padded batch: row {@code b * srcLen + j} of {@code memory}
 * ({@code d} floats) is token j of sentence b; rows at or past {@code lengths[b]} are padding.
 *
 * @param memory  [batch * srcLen, d] F32
 * @param batch   sentences
 * @param srcLen  padded length
 * @param lengths real length of each sentence
 */
public record EncoderOutput(MemorySegment memory, int batch, int srcLen, int[] lengths) {
}
