package org.moescope.probe;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.moescope.format.safetensors.SafetensorsWriter;
import org.moescope.model.ModelFile;
import org.moescope.model.forward.Transformer;
import org.moescope.model.hook.Batch;
import org.moescope.model.hook.HookPoint;
import org.moescope.model.hook.Hooks;
import org.moescope.probe.profile.CompositeHooks;
import org.moescope.probe.profile.Profile;
import org.moescope.probe.profile.ProfileException;
import org.moescope.probe.profile.ProfileHooks;
import org.moescope.probe.trace.TraceRecorder;
import org.moescope.testkit.SharedFiles;

/** Profiles on mini-moe (softmax, top-4 of 32, renormalised), each with an exact expectation. */
class InterventionTest {
    static final int[] IDS = {1, 326, 203, 464, 309, 1714, 414, 1282, 35, 2, 203, 1, 327, 203, 3, 203};
    static ModelFile model;
    static Transformer transformer;
    @TempDir Path dir;

    @BeforeAll
    static void load() {
        model = ModelFile.open(SharedFiles.require("models/mini-moe/hf"));
        transformer = Transformer.of(model);
    }

    /** Logits and routing of one pass with the given hooks (the recorder runs after them). */
    record Pass(float[] logits, TraceRecorder recorder, Map<String, float[]> captured) {}

    static Pass run(Hooks intervention, Set<HookPoint> capture) {
        TraceRecorder recorder = new TraceRecorder(true, capture, model.config().layerCount());
        Map<String, float[]> captured = new HashMap<>();
        float[] logits = new float[IDS.length * model.config().vocabularySize()];
        transformer.forward(transformer.newState(IDS.length, IDS.length), new Batch().set(IDS, 0, IDS.length, 0, Batch.Phase.PROMPT),
                CompositeHooks.of(intervention, recorder), logits, true);
        for (var c : recorder.captures()) captured.merge(c.point(), c.values(), (a, b) -> {
            float[] all = java.util.Arrays.copyOf(a, a.length + b.length);
            System.arraycopy(b, 0, all, a.length, b.length);
            return all;
        });
        return new Pass(logits, recorder, captured);
    }

    static ProfileHooks bind(String json, Path base) { return new ProfileHooks(Profile.parse(json, base), model.config()); }

    @Test
    void emptyProfileChangesNoLogitBit() {
        float[] plain = run(Hooks.NONE, Set.of()).logits();
        float[] empty = run(bind("{}", null), Set.of()).logits();
        for (int i = 0; i < plain.length; i++) assertThat(Float.floatToRawIntBits(empty[i])).isEqualTo(Float.floatToRawIntBits(plain[i]));
    }

    @Test
    void disabledExpertIsNeverSelectedAndTheRestRenormalise() {
        Pass base = run(Hooks.NONE, Set.of());
        int layer = 2;
        // the expert chosen first for the first token in layer 2
        int expert = base.recorder().routes().stream().filter(r -> r.layer() == layer && r.position() == 0 && r.rank() == 0).findFirst().orElseThrow().expert();
        Pass off = run(bind("{\"experts\": {\"disable\": [{\"layers\": [2], \"experts\": [" + expert + "]}]}}", null), Set.of());
        assertThat(off.recorder().routes()).filteredOn(r -> r.layer() == layer).noneMatch(r -> r.expert() == expert);
        // at position 0 (identical input up to layer 2), the weights are softmax renormalised over the remaining experts
        List<TraceRecorder.Route> routes = off.recorder().routes().stream().filter(r -> r.layer() == layer && r.position() == 0).toList();
        double sumExp = 0;
        for (TraceRecorder.Route r : routes) sumExp += Math.exp(r.logit());
        for (TraceRecorder.Route r : routes) assertThat((double) r.weight()).isCloseTo(Math.exp(r.logit()) / sumExp, org.assertj.core.data.Offset.offset(1e-5));
        // and they are the four best logits that remain
        assertThat(routes).hasSize(4);
    }

    @Test
    void forcedExpertReplacesTheLowestRankedWithItsOwnScore() {
        Pass base = run(Hooks.NONE, Set.of(HookPoint.block(1, HookPoint.Kind.ROUTER_LOGITS)));
        int layer = 1;
        List<TraceRecorder.Route> chosen = base.recorder().routes().stream().filter(r -> r.layer() == layer && r.position() == 0).toList();
        Set<Integer> selected = new java.util.HashSet<>();
        chosen.forEach(r -> selected.add(r.expert()));
        int forced = 0;
        while (selected.contains(forced)) forced++;
        Pass on = run(bind("{\"experts\": {\"force\": [{\"layers\": [1], \"experts\": [" + forced + "]}]}}", null),
                Set.of(HookPoint.block(1, HookPoint.Kind.ROUTER_LOGITS)));
        float[] logits = java.util.Arrays.copyOf(on.captured().get("blocks.1.router.logits"), 32); // position 0
        // by hand: the three best of the original four, plus the forced one; softmax scores renormalised over these four
        int[] expected = {chosen.get(0).expert(), chosen.get(1).expert(), chosen.get(2).expert(), forced};
        double sum = 0;
        for (int e : expected) sum += Math.exp(logits[e]);
        Map<Integer, Double> weights = new HashMap<>();
        for (int e : expected) weights.put(e, Math.exp(logits[e]) / sum);
        List<TraceRecorder.Route> now = on.recorder().routes().stream().filter(r -> r.layer() == layer && r.position() == 0).toList();
        assertThat(now.stream().map(TraceRecorder.Route::expert).toList()).containsExactlyInAnyOrder(expected[0], expected[1], expected[2], expected[3]);
        for (TraceRecorder.Route r : now) assertThat((double) r.weight()).isCloseTo(weights.get(r.expert()), org.assertj.core.data.Offset.offset(1e-5));
    }

    @Test
    void steerAddShiftsResidPostByExactlyScaleTimesVector() throws Exception {
        float[] v = new float[256];
        for (int i = 0; i < v.length; i++) v[i] = (float) Math.sin(i);
        new SafetensorsWriter().add("v", new long[] {256}, v).write(dir.resolve("v.safetensors"));
        HookPoint point = HookPoint.block(3, HookPoint.Kind.RESID_POST);
        Pass base = run(Hooks.NONE, Set.of(point));
        Pass steered = run(bind("{\"steer\": [{\"layers\": [3], \"point\": \"resid_post\", \"mode\": \"add\", \"vector\": \"v.safetensors#v\", \"scale\": 4.0}]}",
                dir), Set.of(point));
        float[] a = base.captured().get(point.name()), b = steered.captured().get(point.name());
        for (int i = 0; i < a.length; i++) assertThat(b[i]).isEqualTo(a[i] + 4.0f * v[i % 256]);
    }

    @Test
    void steerAblateLeavesNoProjectionOnTheDirection() throws Exception {
        float[] v = new float[256];
        for (int i = 0; i < v.length; i++) v[i] = (float) Math.cos(0.3 * i) + 0.5f;
        new SafetensorsWriter().add("d", new long[] {256}, v).write(dir.resolve("d.safetensors"));
        HookPoint point = HookPoint.block(2, HookPoint.Kind.RESID_POST);
        Pass ablated = run(bind("{\"steer\": [{\"layers\": [2], \"mode\": \"ablate\", \"vector\": \"d.safetensors#d\"}]}", dir), Set.of(point));
        float[] h = ablated.captured().get(point.name());
        double norm = 0;
        for (float x : v) norm += x * x;
        norm = Math.sqrt(norm);
        for (int t = 0; t < IDS.length; t++) {
            double dot = 0, len = 0;
            for (int i = 0; i < 256; i++) {
                dot += h[t * 256 + i] * v[i] / norm;
                len += (double) h[t * 256 + i] * h[t * 256 + i];
            }
            assertThat(Math.abs(dot)).as("token %d", t).isLessThan(1e-5 * Math.sqrt(len) + 1e-6);
        }
    }

    @Test
    void generatedPhaseRuleLeavesPromptRoutingAlone() {
        Pass base = run(Hooks.NONE, Set.of());
        Pass scoped = run(bind("{\"experts\": {\"disable\": [{\"layers\": \"all\", \"experts\": [0, 1, 2, 3, 4, 5, 6, 7], "
                + "\"scope\": {\"phase\": \"generated\"}}]}}", null), Set.of());
        assertThat(scoped.recorder().routes()).isEqualTo(base.recorder().routes());
        for (int i = 0; i < base.logits().length; i++) assertThat(scoped.logits()[i]).isEqualTo(base.logits()[i]);
    }

    @Test
    void invalidProfilesNameTheJsonPath() {
        assertThatThrownBy(() -> bind("{\"expert\": {}}", null)).isInstanceOf(ProfileException.class).hasMessageContaining("expert").hasMessageContaining("unknown key");
        assertThatThrownBy(() -> bind("{\"experts\": {\"disable\": [{\"layers\": [1], \"experts\": [3]}, {\"layers\": [9], \"experts\": [1]}]}}", null))
                .hasMessageContaining("experts.disable[1].layers[0]").hasMessageContaining("does not exist");
        assertThatThrownBy(() -> bind("{\"experts\": {\"disable\": [{\"layers\": [1], \"experts\": [32]}]}}", null))
                .hasMessageContaining("experts.disable[0].experts[0]");
        assertThatThrownBy(() -> bind("{\"router\": {\"top_k\": 0}}", null)).hasMessageContaining("router.top_k");
        assertThatThrownBy(() -> bind("{\"experts\": [", null)).hasMessageContaining("malformed JSON");
        assertThatThrownBy(() -> bind("{\"steer\": [{\"layers\": [1], \"vector\": \"missing.gguf\"}]}", dir)).hasMessageContaining("steer[0].vector");
    }

    @Test
    void wrongVectorSizeIsNamed() throws Exception {
        new SafetensorsWriter().add("v", new long[] {10}, new float[10]).write(dir.resolve("small.safetensors"));
        assertThatThrownBy(() -> bind("{\"steer\": [{\"layers\": [1], \"vector\": \"small.safetensors#v\"}]}", dir))
                .hasMessageContaining("steer[0].vector").hasMessageContaining("10 values").hasMessageContaining("256");
    }
}
