package dev.kawi.runtime.tokenizer;

import static dev.kawi.runtime.tokenizer.TestSpecs.B;
import static dev.kawi.runtime.tokenizer.TestSpecs.byteId;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kawi.weights.TokenizerSpec.Normalization;
import org.junit.jupiter.api.Test;

/** Decoding of arbitrary id sequences (as a model may produce them), specials and bad ids. */
class DecodeTest {
    private static final TestSpecs.Builder V = TestSpecs.fixedBpe();
    private static final Tokenizer T = Tokenizer.create(V.bpe(Normalization.NFC, true, true));

    @Test
    void outOfRangeIdsNameTheIdAndPosition() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> T.decode(new int[] {V.id("a"), T.size()}));
        assertTrue(e.getMessage().contains("id " + T.size()) && e.getMessage().contains("position 1"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> T.decode(new int[] {-7}));
        assertTrue(e.getMessage().contains("id -7") && e.getMessage().contains("position 0"), e.getMessage());
        assertThrows(IndexOutOfBoundsException.class, () -> T.decode(new int[3], 2, 2));
    }

    @Test
    void specialsAreSkippedByDefaultAndKeptOnRequest() {
        int[] ids = {1, V.id(B + "Hello"), 3, V.id(B), V.id("a"), 2, 0};
        assertEquals("Hello a", T.decode(ids));
        assertEquals("<s> Hello<unk> a</s><pad>", T.decode(ids, 0, ids.length, Tokenizer.Specials.KEEP));
        assertTrue(T.isSpecial(0) && T.isSpecial(1) && T.isSpecial(2) && T.isSpecial(3));
        assertFalse(T.isSpecial(byteId(0x41)) || T.isSpecial(V.id("<")) || T.isSpecial(V.id("<s")));
    }

    @Test
    void byteRunsDecodeAsUtf8AndMalformedBytesBecomeReplacementCharacters() {
        // ä as bytes, with a skipped special inside the run.
        assertEquals("\u00e4", T.decode(new int[] {V.id(B), byteId(0xC3), 1, byteId(0xA4)}));
        // A lone continuation byte, a truncated sequence, an invalid lead byte.
        assertEquals("a\ufffdb", T.decode(new int[] {V.id("a"), byteId(0xA4), V.id("b")}));
        assertEquals("a\ufffd", T.decode(new int[] {V.id("a"), byteId(0xE2), byteId(0x96)}));
        assertEquals("\ufffd", T.decode(new int[] {byteId(0xFF)}));
        // The bytes of ▁ (E2 96 81) decode to a space like the piece ▁, and the leading one is stripped.
        assertEquals("a", T.decode(new int[] {byteId(0xE2), byteId(0x96), byteId(0x81), V.id("a")}));
        // Byte pieces spell ASCII too.
        assertEquals("Hi", T.decode(new int[] {byteId('H'), byteId('i')}));
    }

    @Test
    void onlyOneLeadingSpaceIsStrippedAndOnlyWithTheDummyPrefix() {
        assertEquals(" a", T.decode(new int[] {V.id(B), V.id(B), V.id("a")}));
        assertEquals("a b", T.decode(new int[] {V.id("a"), V.id(B), V.id("b")}));
        Tokenizer noPrefix = Tokenizer.create(V.bpe(Normalization.NFC, true, false));
        assertEquals(" a", noPrefix.decode(new int[] {V.id(B), V.id("a")}));
    }

    @Test
    void rangeVariantDecodesTheSlice() {
        int[] ids = {V.id(B + "Hello"), V.id(B), V.id("a"), V.id(B + "abc")};
        assertEquals("a abc", T.decode(ids, 1, 3));
        assertEquals("", T.decode(ids, 4, 0));
    }

    @Test
    void lookups() {
        assertEquals(V.pieces.size(), T.size());
        assertEquals(B + "Hello", T.piece(V.id(B + "Hello")));
        assertEquals(V.id(B + "Hello"), T.id(B + "Hello"));
        assertEquals(-1, T.id("nope"));
        assertEquals(0xC3, T.byteValue(byteId(0xC3)));
        assertEquals(-1, T.byteValue(V.id("a")));
        assertThrows(IndexOutOfBoundsException.class, () -> T.piece(T.size()));
    }
}
