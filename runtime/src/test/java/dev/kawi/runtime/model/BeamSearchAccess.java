package dev.kawi.runtime.model;

/** Test access to the length penalty. */
final class BeamSearchAccess {
    private BeamSearchAccess() {
    }

    static float normalize(float score, int length, float alpha) {
        return (float) (score / Math.pow((5.0 + length) / 6.0, alpha));
    }
}
