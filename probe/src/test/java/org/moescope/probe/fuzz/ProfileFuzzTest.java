package org.moescope.probe.fuzz;

import java.nio.charset.StandardCharsets;

import com.code_intelligence.jazzer.junit.FuzzTest;

import org.moescope.model.config.ModelConfig;
import org.moescope.probe.profile.Profile;
import org.moescope.probe.profile.ProfileException;
import org.moescope.probe.profile.ProfileHooks;

/**
 * Profiles come from users and, through the server, from anyone who can reach it: any JSON must
 * parse and bind to a model or fail with a ProfileException naming the field.
 */
class ProfileFuzzTest {
    /** Qwen3-MoE's shape in small: 3 layers of 8 experts, top-2. */
    private static final ModelConfig CONFIG = config();

    private static ModelConfig config() {
        try {
            var root = new com.fasterxml.jackson.databind.ObjectMapper().readTree("""
                    {"model_type": "qwen3_moe", "hidden_size": 64, "intermediate_size": 128, "moe_intermediate_size": 32,
                     "num_attention_heads": 4, "num_key_value_heads": 2, "head_dim": 16, "num_hidden_layers": 3,
                     "num_experts": 8, "num_experts_per_tok": 2, "norm_topk_prob": true, "rms_norm_eps": 1e-6,
                     "rope_theta": 10000.0, "max_position_embeddings": 256, "vocab_size": 512, "decoder_sparse_step": 1,
                     "mlp_only_layers": [], "tie_word_embeddings": false}""");
            var hf = org.moescope.model.config.HfConfig.of(java.nio.file.Path.of("config.json"), root);
            return org.moescope.model.arch.Architectures.forHf(hf).fromHf(hf);
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    @FuzzTest(maxDuration = "10s")
    void profilesFailOnlyWithProfileErrors(byte[] input) {
        try {
            Profile p = Profile.parse(new String(input, StandardCharsets.UTF_8), null);
            if (p.steer().isEmpty()) new ProfileHooks(p, CONFIG); // vectors would be read from files: the parse is what is fuzzed
        } catch (ProfileException expected) {
            // a clear error is the right answer to a bad profile
        }
    }
}
