package dev.kawi.trainer.export;

import dev.kawi.trainer.model.ParamLayout;
import dev.kawi.trainer.tensor.Buf;
import dev.kawi.trainer.tensor.F32Buf;
import dev.kawi.weights.DType;
import dev.kawi.weights.QuantCodec;
import dev.kawi.weights.QuantPolicy;
import java.util.ArrayList;
import java.util.List;

/**
 * Quantization-aware training's fake quantization: a copy of the parameters in which every
 * tensor that an export to {@code dtype} quantizes (per {@link QuantPolicy}) is replaced by its
 * quantize-dequantize round trip through {@link QuantCodec}, the codec the runtime reads. The
 * forward and backward passes compute with the copy; gradients flow to the master weights
 * unchanged (straight-through estimator).
 */
public final class FakeQuant {
    private final DType dtype;
    private final List<ParamLayout.Entry> quantized = new ArrayList<>();
    private float[] row = new float[0];
    private float[] out = new float[0];

    /** Fake quantization to {@code dtype} (Q8 or Q4) under {@code policy}. */
    public FakeQuant(ParamLayout layout, DType dtype, QuantPolicy policy) {
        if (!dtype.isQuantized()) {
            throw new IllegalArgumentException("fake quantization needs Q8 or Q4, not " + dtype);
        }
        this.dtype = dtype;
        for (ParamLayout.Entry e : layout.entries()) {
            if (e.isMatrix() && policy.storedType(e.name(), e.cols(), DType.F32, dtype) == dtype) {
                quantized.add(e);
            }
        }
    }

    /** The target dtype. */
    public DType dtype() {
        return dtype;
    }

    /** The tensors that are fake-quantized. */
    public List<ParamLayout.Entry> quantized() {
        return List.copyOf(quantized);
    }

    /** Writes into {@code dst} the parameters {@code src} with the quantized tensors rounded through the codec. */
    public void apply(F32Buf src, F32Buf dst) {
        dst.copyFrom(0, src, 0, src.size());
        for (ParamLayout.Entry e : quantized) {
            int cols = e.cols();
            int rows = e.rows();
            if (row.length < cols) {
                row = new float[cols];
                out = new float[cols];
            }
            for (int r = 0; r < rows; r++) {
                long off = e.offset() + (long) r * cols;
                src.read(off, row, 0, cols);
                QuantCodec.roundTrip(dtype, row, 1, cols, out);
                dst.write(off, out, 0, cols);
            }
        }
    }

    /** As {@link #apply(F32Buf, F32Buf)} for any precision (gradient checks and tests). */
    public void apply(Buf src, Buf dst) {
        if (src instanceof F32Buf s && dst instanceof F32Buf d) {
            apply(s, d);
            return;
        }
        throw new IllegalArgumentException("fake quantization runs on F32 parameters");
    }
}
