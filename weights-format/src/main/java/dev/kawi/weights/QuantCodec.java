package dev.kawi.weights;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/**
 * The scalar int8/int4 block codec and the F16/BF16 conversions: the single definition that the
 * writer, the runtime kernels (as their oracle) and the trainer's fake quantization share.
 *
 * <p>A block is 32 consecutive values of one row (along the reduction dimension). Its scale is
 * {@code s = up17(amax / QMAX)} where amax is the block's largest magnitude, QMAX is 127 (Q8) or 7
 * (Q4), and {@code up17} rounds a float up to 17 significant bits. A value is stored as
 * {@code q = clamp(rint(w / s), -QMAX, QMAX)} and read back as {@code q * s} (float multiply).
 *
 * <p>Why 17 bits: then {@code QMAX * s} is exact in float, so quantizing already-dequantized
 * weights gives the very same scale and values. Re-quantizing an exported quantization-aware
 * model is lossless, and every value {@code q * s} on the grid round-trips exactly.
 */
public final class QuantCodec {
    /** Values per block, along the last dimension. */
    public static final int BLOCK = 32;
    /** Largest magnitude written by the Q8 encoder (the decoder also accepts -128). */
    public static final int Q8_MAX = 127;
    /** Largest magnitude written by the Q4 encoder (the decoder also accepts -8). */
    public static final int Q4_MAX = 7;
    /** Added to a signed int4 value to store it in a nibble (0..15). */
    public static final int Q4_OFFSET = 8;

    static final ValueLayout.OfFloat F32_LE = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    static final ValueLayout.OfShort I16_LE = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private QuantCodec() {
    }

    /** Checks that a quantized tensor's last dimension is a positive multiple of {@link #BLOCK}. */
    public static void checkCols(long cols) {
        if (cols <= 0 || cols % BLOCK != 0) {
            throw new IllegalArgumentException("last dimension " + cols + " is not a positive multiple of the block size " + BLOCK);
        }
    }

    /** The block scale for a block whose largest magnitude is {@code amax}: amax / qmax rounded up to 17 significant bits. */
    public static float scaleFor(float amax, int qmax) {
        if (!(amax >= 0f) || amax == Float.POSITIVE_INFINITY) {
            throw new IllegalArgumentException("block magnitude must be finite, was " + amax);
        }
        if (amax == 0f) {
            return 0f;
        }
        int bits = Float.floatToRawIntBits(amax / qmax);
        // Keep 16 explicit mantissa bits (17 significant); round up so that |w / s| <= qmax holds.
        if ((bits & 0x7F) != 0) {
            bits = (bits & ~0x7F) + 0x80;
        }
        return Float.intBitsToFloat(bits);
    }

    /** Quantizes one value with scale s to an integer in [-qmax, qmax]. */
    public static int quantize(float w, float s, int qmax) {
        if (s == 0f) {
            return 0;
        }
        float r = (float) Math.rint(w / s);
        return (int) Math.max(-qmax, Math.min(qmax, r));
    }

    /** Largest magnitude of src[off .. off+n); throws on NaN or infinity. */
    static float absMax(float[] src, int off, int n) {
        float amax = 0f;
        for (int i = 0; i < n; i++) {
            float v = src[off + i];
            if (!Float.isFinite(v)) {
                throw new IllegalArgumentException("cannot quantize a non-finite value (" + v + ") at index " + (off + i));
            }
            amax = Math.max(amax, Math.abs(v));
        }
        return amax;
    }

    /**
     * Quantizes one row of {@code cols} floats to Q8: {@code cols} bytes at {@code q[qOff..]} and
     * {@code cols / 32} scales at {@code scales[sOff..]}.
     */
    public static void quantizeRowQ8(float[] src, int srcOff, int cols, byte[] q, int qOff, float[] scales, int sOff) {
        checkCols(cols);
        for (int b = 0; b < cols / BLOCK; b++) {
            int base = srcOff + b * BLOCK;
            float s = scaleFor(absMax(src, base, BLOCK), Q8_MAX);
            scales[sOff + b] = s;
            for (int i = 0; i < BLOCK; i++) {
                q[qOff + b * BLOCK + i] = (byte) quantize(src[base + i], s, Q8_MAX);
            }
        }
    }

    /**
     * Quantizes one row to Q4: {@code cols / 2} bytes at {@code q[qOff..]}. In each block of 32
     * values, byte j (0..15) holds value j in its low nibble and value j + 16 in its high nibble,
     * each stored as {@code q + 8}.
     */
    public static void quantizeRowQ4(float[] src, int srcOff, int cols, byte[] q, int qOff, float[] scales, int sOff) {
        checkCols(cols);
        for (int b = 0; b < cols / BLOCK; b++) {
            int base = srcOff + b * BLOCK;
            float s = scaleFor(absMax(src, base, BLOCK), Q4_MAX);
            scales[sOff + b] = s;
            for (int j = 0; j < BLOCK / 2; j++) {
                int lo = quantize(src[base + j], s, Q4_MAX) + Q4_OFFSET;
                int hi = quantize(src[base + j + BLOCK / 2], s, Q4_MAX) + Q4_OFFSET;
                q[qOff + b * (BLOCK / 2) + j] = (byte) (lo | (hi << 4));
            }
        }
    }

    /** Signed int4 value j (0..31) of the Q4 block whose 16 bytes start at {@code q[blockOff]}. */
    public static int q4Value(byte[] q, int blockOff, int j) {
        int b = q[blockOff + (j & 15)] & 0xFF;
        return (j < 16 ? b & 0x0F : b >>> 4) - Q4_OFFSET;
    }

    /** Dequantizes one Q8 row: dst[i] = q[i] * scale of its block. */
    public static void dequantizeRowQ8(byte[] q, int qOff, float[] scales, int sOff, int cols, float[] dst, int dstOff) {
        checkCols(cols);
        for (int i = 0; i < cols; i++) {
            dst[dstOff + i] = q[qOff + i] * scales[sOff + i / BLOCK];
        }
    }

    /** Dequantizes one Q4 row laid out as in {@link #quantizeRowQ4}. */
    public static void dequantizeRowQ4(byte[] q, int qOff, float[] scales, int sOff, int cols, float[] dst, int dstOff) {
        checkCols(cols);
        for (int b = 0; b < cols / BLOCK; b++) {
            float s = scales[sOff + b];
            for (int j = 0; j < BLOCK; j++) {
                dst[dstOff + b * BLOCK + j] = q4Value(q, qOff + b * (BLOCK / 2), j) * s;
            }
        }
    }

    /**
     * Replaces each row of {@code w} (rows x cols, row-major) by its quantize-dequantize round trip
     * in {@code dtype}: the fake quantization of quantization-aware training. Returns {@code out}.
     */
    public static float[] roundTrip(DType dtype, float[] w, int rows, int cols, float[] out) {
        if (!dtype.isQuantized()) {
            throw new IllegalArgumentException(dtype + " is not a block-quantized type");
        }
        checkCols(cols);
        int qRow = (int) dtype.quantRowBytes(cols);
        byte[] q = new byte[qRow];
        float[] s = new float[cols / BLOCK];
        for (int r = 0; r < rows; r++) {
            int off = r * cols;
            if (dtype == DType.Q8) {
                quantizeRowQ8(w, off, cols, q, 0, s, 0);
                dequantizeRowQ8(q, 0, s, 0, cols, out, off);
            } else {
                quantizeRowQ4(w, off, cols, q, 0, s, 0);
                dequantizeRowQ4(q, 0, s, 0, cols, out, off);
            }
        }
        return out;
    }

    /**
     * Reads row {@code row} of a tensor stored in {@code dtype} (any type) from its bytes in the
     * file and writes it as floats to {@code dst[dstOff .. dstOff + cols)}.
     */
    public static void readRow(DType dtype, MemorySegment data, long rows, long cols, long row, float[] dst, int dstOff) {
        int n = Math.toIntExact(cols);
        switch (dtype) {
            case F32 -> {
                long base = row * cols * 4;
                for (int i = 0; i < n; i++) {
                    dst[dstOff + i] = data.get(F32_LE, base + 4L * i);
                }
            }
            case F16 -> {
                long base = row * cols * 2;
                for (int i = 0; i < n; i++) {
                    dst[dstOff + i] = Float.float16ToFloat(data.get(I16_LE, base + 2L * i));
                }
            }
            case BF16 -> {
                long base = row * cols * 2;
                for (int i = 0; i < n; i++) {
                    dst[dstOff + i] = bf16ToFloat(data.get(I16_LE, base + 2L * i));
                }
            }
            case Q8, Q4 -> {
                long rowBytes = dtype.quantRowBytes(cols);
                byte[] q = new byte[(int) rowBytes];
                MemorySegment.copy(data, ValueLayout.JAVA_BYTE, row * rowBytes, q, 0, q.length);
                float[] s = new float[n / BLOCK];
                long sBase = dtype.scalesOffset(rows, cols) + row * (cols / BLOCK) * 4;
                for (int b = 0; b < s.length; b++) {
                    s[b] = data.get(F32_LE, sBase + 4L * b);
                }
                if (dtype == DType.Q8) {
                    dequantizeRowQ8(q, 0, s, 0, n, dst, dstOff);
                } else {
                    dequantizeRowQ4(q, 0, s, 0, n, dst, dstOff);
                }
            }
        }
    }

    /** bfloat16 bits to float (exact). */
    public static float bf16ToFloat(short bits) {
        return Float.intBitsToFloat((bits & 0xFFFF) << 16);
    }

    /** float to bfloat16 bits, rounding to nearest even; NaN stays a quiet NaN. */
    public static short floatToBf16(float f) {
        int bits = Float.floatToRawIntBits(f);
        if (Float.isNaN(f)) {
            return (short) ((bits >>> 16) | 0x0040);
        }
        int rounding = 0x7FFF + ((bits >>> 16) & 1);
        return (short) ((bits + rounding) >>> 16);
    }
}
