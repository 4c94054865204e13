package org.moescope.probe;

import static org.assertj.core.api.Assertions.assertThat;

import java.lang.foreign.ValueLayout;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Set;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.moescope.format.TensorData;
import org.moescope.format.safetensors.SafetensorsFile;
import org.moescope.model.ModelFile;
import org.moescope.model.forward.Transformer;
import org.moescope.model.hook.Batch;
import org.moescope.probe.trace.TraceRecorder;
import org.moescope.testkit.SharedFiles;

/**
 * The captured routing of every MoE fixture equals what transformers' router modules returned:
 * router logits, the chosen experts and their final weights (the golden files' module hooks).
 */
class RouterCaptureTest {
    @ParameterizedTest
    @ValueSource(strings = {"qwen3_moe", "qwen2_moe", "olmoe", "mixtral", "deepseek_v2", "deepseek_v3", "gpt_oss", "granitemoe", "glm4_moe"})
    void capturedRoutingEqualsTheReferenceRouterOutputs(String arch) {
        Path dir = SharedFiles.require("fixtures/arch/" + arch);
        try (ModelFile model = ModelFile.open(dir.resolve("hf")); SafetensorsFile golden = SafetensorsFile.open(dir.resolve("golden-short.safetensors"))) {
            long[] ids64 = golden.requireTensor("input_ids").data().toArray(ValueLayout.JAVA_LONG);
            int[] ids = Arrays.stream(ids64).mapToInt(Math::toIntExact).toArray();
            int layers = model.config().layerCount();
            TraceRecorder recorder = new TraceRecorder(true, Set.of(), layers);
            Transformer t = Transformer.of(model);
            t.forward(t.newState(ids.length, ids.length), new Batch().set(ids, 0, ids.length, 0, Batch.Phase.PROMPT), recorder,
                    new float[ids.length * model.config().vocabularySize()], true);
            int checkedLayers = 0;
            for (int l = 0; l < layers; l++) {
                if (!model.config().isMoeLayer(l)) continue;
                List<TensorData> outs = new ArrayList<>();
                for (TensorData td : golden.tensors()) {
                    if (td.name().startsWith("module.model.layers." + l + ".") && td.name().matches(".*\\.(gate|router)\\.out\\.\\d")) outs.add(td);
                }
                int k = model.config().moe().expertsPerToken();
                float[] logits = null, weights = null, indices = null;
                for (TensorData td : outs) {
                    float[] v = td.data().toArray(ValueLayout.JAVA_FLOAT);
                    if (td.columns() != k) logits = v;
                    else if (isIndices(v, model.config().moe().experts())) indices = v;
                    else weights = v;
                }
                assertThat(indices).as("%s layer %d: no index output in %s", arch, l, outs).isNotNull();
                for (int pos = 0; pos < ids.length; pos++) {
                    float[] expectedWeight = new float[model.config().moe().experts()];
                    java.util.Set<Integer> expected = new java.util.TreeSet<>();
                    for (int r = 0; r < k; r++) {
                        int e = (int) indices[pos * k + r];
                        expected.add(e);
                        if (weights != null) expectedWeight[e] = weights[pos * k + r];
                    }
                    java.util.Set<Integer> actual = new java.util.TreeSet<>();
                    for (TraceRecorder.Route route : recorder.routes()) {
                        if (route.position() != pos || route.layer() != l) continue;
                        actual.add(route.expert());
                        if (weights != null) {
                            assertThat(route.weight()).as("%s layer %d pos %d expert %d weight", arch, l, pos, route.expert())
                                    .isCloseTo(expectedWeight[route.expert()], org.assertj.core.data.Offset.offset(1e-5f));
                        }
                        if (logits != null) {
                            assertThat(route.logit()).as("%s layer %d pos %d expert %d logit", arch, l, pos, route.expert())
                                    .isCloseTo(logits[pos * model.config().moe().experts() + route.expert()], org.assertj.core.data.Offset.offset(1e-4f));
                        }
                    }
                    assertThat(actual).as("%s layer %d position %d experts", arch, l, pos).isEqualTo(expected);
                }
                checkedLayers++;
            }
            assertThat(checkedLayers).isGreaterThan(0);
        }
    }

    private static boolean isIndices(float[] v, int experts) {
        for (float x : v) if (x != Math.rint(x) || x < 0 || x >= experts) return false;
        return true;
    }
}
