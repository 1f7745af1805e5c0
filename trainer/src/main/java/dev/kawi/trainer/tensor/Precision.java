package dev.kawi.trainer.tensor;

/** Storage precision of the trainer's buffers: F32 for training, F64 for gradient checks. */
public enum Precision { F32, F64 }
