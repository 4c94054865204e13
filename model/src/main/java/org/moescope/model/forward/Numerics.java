package org.moescope.model.forward;

/**
 * How matrix products round their inputs: as transformers does (float32 throughout, the reference
 * for HF checkpoints) or as llama.cpp does (activations quantized to the weight type's dot-product
 * format, the reference for GGUF files).
 */
public enum Numerics { FLOAT32, LLAMA_CPP }
