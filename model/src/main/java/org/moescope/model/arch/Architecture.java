package org.moescope.model.arch;

import org.moescope.model.config.GgufConfig;
import org.moescope.model.config.HfConfig;
import org.moescope.model.config.ModelConfig;
import org.moescope.model.weights.HfNames;

/**
 * One supported architecture: how its HF config and GGUF metadata describe it, and how its HF
 * tensors are named where that differs from the common scheme. The forward pass itself is shared:
 * what differs between architectures is data in {@link ModelConfig}.
 */
public interface Architecture {
    /** HF {@code model_type}. */
    String modelType();

    /** Value of GGUF {@code general.architecture}, or null where llama.cpp has no converter for it. */
    String ggufName();

    ModelConfig fromHf(HfConfig config);

    ModelConfig fromGguf(GgufConfig config);

    /** Names of this architecture's tensors in HF checkpoints. */
    default HfNames hfNames() { return HfNames.STANDARD; }
}
