package dev.kawi.trainer;

import dev.kawi.weights.DType;

/**
 * Everything a training run is configured by, besides the model architecture.
 *
 * @param maxSteps       optimizer steps to run
 * @param warmup         warm-up steps of the learning-rate schedule
 * @param lrScale        factor on the paper's schedule (1 = the paper)
 * @param beta1          AdamW first-moment decay (paper: 0.9)
 * @param beta2          AdamW second-moment decay (paper: 0.98)
 * @param adamEps        AdamW epsilon (paper: 1e-9)
 * @param weightDecay    decoupled weight decay on matrices
 * @param clipNorm       global gradient-norm limit; 0 disables clipping
 * @param labelSmoothing label smoothing ε (paper: 0.1)
 * @param dropout        residual and embedding dropout (paper: 0.1)
 * @param maxTokens      padded tokens per side of one batch
 * @param accumulation   batches whose gradients are summed per optimizer step
 * @param threads        worker threads; each batch is split into this many shards
 * @param seed           seeds initialization, batch order and dropout
 * @param maxLength      longest sequence (tokens, eos included) kept for training
 * @param qat            fake-quantization dtype for quantization-aware training, or null
 * @param qatStart       first step of quantization-aware training
 */
public record TrainOptions(int maxSteps, int warmup, double lrScale, double beta1, double beta2, double adamEps,
                           double weightDecay, double clipNorm, double labelSmoothing, double dropout, int maxTokens,
                           int accumulation, int threads, long seed, int maxLength, DType qat, int qatStart) {

    /** Checks every field. */
    public TrainOptions {
        require(maxSteps >= 0, "max steps must be >= 0");
        require(warmup >= 1, "warmup must be >= 1");
        require(lrScale > 0, "lr scale must be > 0");
        require(beta1 >= 0 && beta1 < 1 && beta2 >= 0 && beta2 < 1, "betas must be in [0, 1)");
        require(adamEps > 0, "adam epsilon must be > 0");
        require(weightDecay >= 0, "weight decay must be >= 0");
        require(clipNorm >= 0, "clip norm must be >= 0");
        require(labelSmoothing >= 0 && labelSmoothing < 1, "label smoothing must be in [0, 1)");
        require(dropout >= 0 && dropout < 1, "dropout must be in [0, 1)");
        require(maxTokens >= 1, "max tokens must be >= 1");
        require(accumulation >= 1, "accumulation must be >= 1");
        require(threads >= 1, "threads must be >= 1");
        require(maxLength >= 2, "max length must be >= 2");
        require(qat == null || qat.isQuantized(), "QAT needs q8 or q4");
    }

    private static void require(boolean ok, String message) {
        if (!ok) {
            throw new IllegalArgumentException(message);
        }
    }

    /** The paper's settings (Adam 0.9/0.98/1e-9, warm-up 4000, smoothing 0.1, dropout 0.1), 4096-token batches, one thread. */
    public static TrainOptions defaults() {
        return new TrainOptions(10_000, 4000, 1.0, 0.9, 0.98, 1e-9, 0.0, 1.0, 0.1, 0.1, 4096, 1, 1, 1, 128, null, 0);
    }

    /** A copy with the step count, warm-up and learning-rate scale changed. */
    public TrainOptions withSchedule(int maxSteps, int warmup, double lrScale) {
        return new TrainOptions(maxSteps, warmup, lrScale, beta1, beta2, adamEps, weightDecay, clipNorm, labelSmoothing, dropout,
                maxTokens, accumulation, threads, seed, maxLength, qat, qatStart);
    }

    /** A copy with regularization changed. */
    public TrainOptions withRegularization(double dropout, double labelSmoothing, double weightDecay, double clipNorm) {
        return new TrainOptions(maxSteps, warmup, lrScale, beta1, beta2, adamEps, weightDecay, clipNorm, labelSmoothing, dropout,
                maxTokens, accumulation, threads, seed, maxLength, qat, qatStart);
    }

    /** A copy with batching and parallelism changed. */
    public TrainOptions withBatching(int maxTokens, int accumulation, int threads) {
        return new TrainOptions(maxSteps, warmup, lrScale, beta1, beta2, adamEps, weightDecay, clipNorm, labelSmoothing, dropout,
                maxTokens, accumulation, threads, seed, maxLength, qat, qatStart);
    }

    /** A copy with the seed and the longest kept sequence changed. */
    public TrainOptions withSeed(long seed, int maxLength) {
        return new TrainOptions(maxSteps, warmup, lrScale, beta1, beta2, adamEps, weightDecay, clipNorm, labelSmoothing, dropout,
                maxTokens, accumulation, threads, seed, maxLength, qat, qatStart);
    }

    /** A copy with quantization-aware training from step {@code start} in {@code dtype} (null: none). */
    public TrainOptions withQat(DType dtype, int start) {
        return new TrainOptions(maxSteps, warmup, lrScale, beta1, beta2, adamEps, weightDecay, clipNorm, labelSmoothing, dropout,
                maxTokens, accumulation, threads, seed, maxLength, dtype, start);
    }
}
