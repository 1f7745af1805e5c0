package dev.kawi.weights;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class QuantCodecTest {
    private static final long SEED = 0x5EEDL;

    /** Blocks with very different magnitudes, zeros and single outliers. */
    private static float[] randomRow(SplittableRandom rnd, int cols) {
        float[] row = new float[cols];
        for (int b = 0; b < cols / 32; b++) {
            double mag = Math.pow(10, rnd.nextInt(-30, 30));
            int kind = rnd.nextInt(5);
            for (int i = 0; i < 32; i++) {
                row[b * 32 + i] = switch (kind) {
                    case 0 -> 0f;
                    case 1 -> i == 7 ? (float) mag : (float) (rnd.nextGaussian() * mag * 1e-3);
                    default -> (float) (rnd.nextGaussian() * mag);
                };
            }
        }
        return row;
    }

    @Test
    void q8AndQ4AreWithinHalfAStep() {
        for (DType t : new DType[] {DType.Q8, DType.Q4}) {
            int qmax = t == DType.Q8 ? QuantCodec.Q8_MAX : QuantCodec.Q4_MAX;
            SplittableRandom rnd = new SplittableRandom(SEED);
            for (int trial = 0; trial < 2000; trial++) {
                int cols = 32 * rnd.nextInt(1, 9);
                float[] w = randomRow(rnd, cols);
                float[] back = QuantCodec.roundTrip(t, w, 1, cols, new float[cols]);
                for (int b = 0; b < cols / 32; b++) {
                    float amax = QuantCodec.absMax(w, b * 32, 32);
                    float s = QuantCodec.scaleFor(amax, qmax);
                    assertTrue(s >= amax / qmax, "scale must not be below amax/qmax");
                    for (int i = b * 32; i < b * 32 + 32; i++) {
                        double err = Math.abs((double) back[i] - w[i]);
                        // Half a step, plus one rounding of the float product q * s.
                        double bound = s / 2.0 + Math.ulp(Math.abs(back[i]));
                        int at = i;
                        int tr = trial;
                        assertTrue(err <= bound, () -> t + " seed " + SEED + " trial " + tr + " index " + at
                                + ": |" + back[at] + " - " + w[at] + "| = " + err + " > " + bound);
                    }
                }
            }
        }
    }

    @Test
    void gridValuesRoundTripExactlyAndQuantizationIsIdempotent() {
        SplittableRandom rnd = new SplittableRandom(SEED + 1);
        for (DType t : new DType[] {DType.Q8, DType.Q4}) {
            for (int trial = 0; trial < 5000; trial++) {
                float[] w = randomRow(rnd, 64);
                float[] once = QuantCodec.roundTrip(t, w, 1, 64, new float[64]);
                float[] twice = QuantCodec.roundTrip(t, once, 1, 64, new float[64]);
                int tr = trial;
                assertArrayEquals(once, twice, () -> t + " seed " + (SEED + 1) + " trial " + tr + ": re-quantizing changed values");
            }
        }
    }

    @Test
    void quantizedBytesAreStableUnderRequantization() {
        SplittableRandom rnd = new SplittableRandom(SEED + 2);
        float[] w = randomRow(rnd, 96);
        byte[] q1 = new byte[96];
        byte[] q2 = new byte[96];
        float[] s1 = new float[3];
        float[] s2 = new float[3];
        QuantCodec.quantizeRowQ8(w, 0, 96, q1, 0, s1, 0);
        float[] d = new float[96];
        QuantCodec.dequantizeRowQ8(q1, 0, s1, 0, 96, d, 0);
        QuantCodec.quantizeRowQ8(d, 0, 96, q2, 0, s2, 0);
        assertArrayEquals(q1, q2);
        assertArrayEquals(s1, s2);
    }

    @Test
    void q4PacksLowAndHighHalvesOfABlock() {
        float[] w = new float[32];
        for (int i = 0; i < 32; i++) {
            w[i] = (i % 15) - 7; // -7..7, amax 7: the scale is exactly 1
        }
        byte[] q = new byte[16];
        float[] s = new float[1];
        QuantCodec.quantizeRowQ4(w, 0, 32, q, 0, s, 0);
        assertEquals(1f, s[0]);
        for (int j = 0; j < 16; j++) {
            assertEquals((int) w[j] + 8, q[j] & 0x0F, "low nibble of byte " + j);
            assertEquals((int) w[j + 16] + 8, (q[j] & 0xFF) >>> 4, "high nibble of byte " + j);
        }
    }

    @Test
    void decoderAcceptsTheFullIntegerRange() {
        byte[] q8 = new byte[32];
        q8[0] = -128;
        q8[1] = 127;
        float[] out = new float[32];
        QuantCodec.dequantizeRowQ8(q8, 0, new float[] {0.5f}, 0, 32, out, 0);
        assertEquals(-64f, out[0]);
        assertEquals(63.5f, out[1]);
        byte[] q4 = new byte[16];
        q4[0] = (byte) 0xF0; // low nibble 0 -> -8, high nibble 15 -> 7
        QuantCodec.dequantizeRowQ4(q4, 0, new float[] {2f}, 0, 32, out, 0);
        assertEquals(-16f, out[0]);
        assertEquals(14f, out[16]);
    }

    @Test
    void scaleKeepsSeventeenSignificantBits() {
        SplittableRandom rnd = new SplittableRandom(SEED + 3);
        for (int i = 0; i < 100_000; i++) {
            float amax = Float.intBitsToFloat(rnd.nextInt(1, 0x7F000000));
            float s = QuantCodec.scaleFor(amax, 127);
            assertEquals(0, Float.floatToRawIntBits(s) & 0x7F, "low mantissa bits of " + s);
            assertEquals(127f * s / 127f, s, "127*s must be exact for " + amax);
            assertTrue(s >= amax / 127f);
        }
    }

    @Test
    void rejectsNonFiniteValuesAndBadWidths() {
        float[] w = new float[32];
        w[3] = Float.NaN;
        assertThrows(IllegalArgumentException.class, () -> QuantCodec.roundTrip(DType.Q8, w, 1, 32, new float[32]));
        w[3] = Float.POSITIVE_INFINITY;
        assertThrows(IllegalArgumentException.class, () -> QuantCodec.roundTrip(DType.Q4, w, 1, 32, new float[32]));
        assertThrows(IllegalArgumentException.class, () -> QuantCodec.roundTrip(DType.Q8, new float[33], 1, 33, new float[33]));
    }

    @Test
    void halfPrecisionConversions() {
        assertEquals((short) 0x3F80, QuantCodec.floatToBf16(1f));
        assertEquals(1f, QuantCodec.bf16ToFloat((short) 0x3F80));
        // Round to nearest even: 1 + 2^-8 is halfway between bf16 1.0 and 1.0078125.
        assertEquals((short) 0x3F80, QuantCodec.floatToBf16(1f + 0x1p-8f));
        assertEquals((short) 0x3F81, QuantCodec.floatToBf16(1f + 0x1p-8f + 0x1p-20f));
        assertTrue(Float.isNaN(QuantCodec.bf16ToFloat(QuantCodec.floatToBf16(Float.NaN))));
        assertEquals(Float.NEGATIVE_INFINITY, QuantCodec.bf16ToFloat(QuantCodec.floatToBf16(Float.NEGATIVE_INFINITY)));
    }
}
