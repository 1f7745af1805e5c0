package dev.kawi.trainer.model;

import dev.kawi.weights.ModelConfig;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Where each named parameter lives in the flat parameter buffer (and, at the same offsets, in
 * the gradient and optimizer buffers). Names and shapes are exactly the model file's tensors
 * ({@link ModelConfig#expectedTensors()}), in that order, so export is a straight copy.
 */
public final class ParamLayout {
    /** One tensor: its element offset, shape and element count. */
    public record Entry(String name, long offset, long[] shape, long size) {
        /** Rows of a matrix (first dimension). */
        public int rows() {
            return (int) shape[0];
        }

        /** Columns of a matrix (last dimension). */
        public int cols() {
            return (int) shape[shape.length - 1];
        }

        /** True for 2-D weight matrices. */
        public boolean isMatrix() {
            return shape.length == 2;
        }
    }

    private final ModelConfig config;
    private final Map<String, Entry> byName = new LinkedHashMap<>();
    private final List<Entry> entries = new ArrayList<>();
    private final long total;

    /** The layout of every tensor of {@code config}. */
    public ParamLayout(ModelConfig config) {
        this.config = config;
        long off = 0;
        for (Map.Entry<String, long[]> e : config.expectedTensors().entrySet()) {
            long size = 1;
            for (long s : e.getValue()) {
                size *= s;
            }
            Entry en = new Entry(e.getKey(), off, e.getValue().clone(), size);
            byName.put(e.getKey(), en);
            entries.add(en);
            // Keep every tensor 16-element aligned (64 bytes in F32) so kernels see aligned rows.
            off += (size + 15) & ~15L;
        }
        this.total = off;
    }

    /** The architecture. */
    public ModelConfig config() {
        return config;
    }

    /** Total elements, padding between tensors included. */
    public long total() {
        return total;
    }

    /** Every tensor in file order. */
    public List<Entry> entries() {
        return Collections.unmodifiableList(entries);
    }

    /** The tensor called {@code name}; fails with the name when there is none. */
    public Entry get(String name) {
        Entry e = byName.get(name);
        if (e == null) {
            throw new IllegalArgumentException("no parameter named " + name);
        }
        return e;
    }

    /** Offset of {@code name}, or -1 when the config has no such tensor. */
    public long offsetOrNone(String name) {
        Entry e = byName.get(name);
        return e == null ? -1 : e.offset();
    }

    /** Offset of {@code name}. */
    public long offset(String name) {
        return get(name).offset();
    }
}
