package org.moescope.model.forward;

import java.util.Arrays;
import java.util.concurrent.atomic.AtomicLongArray;

import org.moescope.model.config.ModelConfig;
import org.moescope.model.config.MoeConfig;
import org.moescope.model.hook.Batch;
import org.moescope.model.hook.HookPoint;
import org.moescope.model.hook.HookPoint.Kind;
import org.moescope.model.hook.Hooks;
import org.moescope.model.weights.ModelWeights;
import org.moescope.tensor.Matrix;
import org.moescope.tensor.Workers;

/**
 * A mixture-of-experts feed-forward block: router logits, per-token selection ({@link Router}),
 * the selected experts computed for exactly the tokens routed to them (grouped by expert, so one
 * pass over an expert's weights serves all its tokens), weighted sum, plus shared experts (gated
 * by sigmoid(w·x) in Qwen2-MoE).
 */
final class MoeBlock {
    private final int layer;
    private final int hidden;
    private final int experts;
    private final Linear router;
    private final Router routing;
    private final Mlp[] expertMlps;
    private final Mlp shared;
    private final Linear sharedGate;

    MoeBlock(int layer, ModelConfig config, ModelWeights.Moe w, Numerics numerics) {
        MoeConfig moe = config.moe();
        this.layer = layer;
        this.hidden = config.hiddenSize();
        this.experts = moe.experts();
        this.router = new Linear(w.router(), w.routerBias(), numerics);
        this.routing = new Router(moe, w.selectionBias() == null ? null : Dequantize.all(w.selectionBias()));
        this.expertMlps = w.experts().stream().map(e -> new Mlp(e, moe.activation(), numerics)).toArray(Mlp[]::new);
        this.shared = w.shared() == null ? null : new Mlp(w.shared(), moe.activation(), numerics);
        this.sharedGate = w.sharedGate() == null ? null : Linear.of(w.sharedGate(), numerics);
    }

    int experts() { return experts; }

    int maxSelected() { return routing.maxSelected(); }

    int sharedWidth() { return shared == null ? 0 : shared.width(); }

    int expertWidth() { return expertMlps[0].width(); }

    void forward(State s, Batch batch, float[] in, float[] out, Hooks hooks) {
        int n = batch.size();
        float[] logits = s.routerLogits;
        router.apply(in, logits, n);
        if (hooks.active(Kind.ROUTER_LOGITS, layer)) hooks.at(HookPoint.block(layer, Kind.ROUTER_LOGITS), batch, logits, 0, experts);

        int stride = routing.maxSelected();
        boolean rules = hooks.routes(layer);
        // a prompt's tokens are routed, copied to their experts' rows and combined on all threads;
        // routing rules come from the hooks, which are asked on the calling thread
        boolean split = TokenJobs.split(n);
        if (split && !rules) Workers.shared().parallelFor("routing", n, (from, to, worker) -> route(s, logits, from, to, null, batch, stride));
        else route(s, logits, 0, n, rules ? hooks : null, batch, stride);
        if (hooks.active(Kind.ROUTER_TOPK, layer)) reportTopK(s, batch, hooks, stride);

        // tokens grouped by expert: expert e's rows are [offset[e], offset[e] + count[e]) of the sorted buffers
        int[] count = s.expertCount, offset = s.expertOffset;
        Arrays.fill(count, 0);
        int total = 0;
        for (int t = 0; t < n; t++) for (int i = 0; i < s.selectedCount[t]; i++) count[s.selected[t * stride + i]]++;
        int active = 0, most = 0;
        for (int e = 0; e < experts; e++) {
            offset[e] = total;
            total += count[e];
            if (count[e] > 0) s.activeExperts[active++] = e;
            most = Math.max(most, count[e]);
        }
        s.ensureExpertRows(total);
        boolean expertHook = hooks.active(Kind.EXPERT_OUT, layer);
        int activeCount = active;
        Workers workers = Workers.shared();
        boolean chunked = !expertHook && activeCount > 1 && workers.threads() > 1 && most <= Matrix.ROW_EXACT_TOKENS && sameRounding(s, activeCount);
        // for the chunked path, rows go in rounded; where every expert rounds alike, a token is
        // rounded once, in its first row, and that row copied to its others (the same bits)
        Linear rounding = chunked ? commonRounding(s, activeCount) : null;
        Arrays.fill(count, 0);
        for (int t = 0; t < n; t++) {
            for (int i = 0; i < s.selectedCount[t]; i++) {
                int e = s.selected[t * stride + i];
                int row = offset[e] + count[e]++;
                s.expertRows[row] = t;
                s.selectedRows[t * stride + i] = row;
            }
        }
        if (split) workers.parallelFor("rows to experts", n, (from, to, worker) -> copyRows(s, in, from, to, stride, rounding));
        else copyRows(s, in, 0, n, stride, rounding);
        if (expertHook || activeCount == 1 || workers.threads() == 1) {
            for (int a = 0; a < activeCount; a++) runExpert(s, s.activeExperts[a], 0, true);
        } else if (chunked) {
            runExpertsInChunks(s, activeCount, workers, rounding != null);
        } else {
            // experts side by side, one per free thread; each writes only its own rows. Largest
            // first in each thread's share, so that what is left to share at the end is small
            int[] order = s.expertOrder;
            balance(s.activeExperts, activeCount, count, order, s.expertSorted, s.runFilled, s.runLoad);
            workers.parallelFor("experts side by side", activeCount, activeCount, (from, to, worker) -> {
                for (int a = from; a < to; a++) runExpert(s, order[a], worker, false);
            });
        }
        if (expertHook) {
            for (int a = 0; a < activeCount; a++) {
                int e = s.activeExperts[a];
                hooks.expertRows(layer, e, Arrays.copyOfRange(s.expertRows, offset[e], offset[e] + count[e]), count[e]);
                hooks.at(HookPoint.expert(layer, e), batch, Arrays.copyOfRange(s.expertOut, offset[e] * hidden, (offset[e] + count[e]) * hidden), 0, hidden);
            }
        }
        if (split) workers.parallelFor("experts combined", n, (from, to, worker) -> combine(s, out, from, to, stride));
        else combine(s, out, 0, n, stride);
        if (shared != null) {
            shared.forward(in, s.sharedOut, n, s.sharedGateBuffer, s.sharedUpBuffer);
            if (sharedGate != null) {
                sharedGate.apply(in, s.sharedGateLogit, n);
                for (int t = 0; t < n; t++) {
                    float g = (float) (1 / (1 + Math.exp(-s.sharedGateLogit[t])));
                    for (int i = 0; i < hidden; i++) s.sharedOut[t * hidden + i] *= g;
                }
            }
            if (hooks.active(Kind.SHARED_EXPERT_OUT, layer)) {
                hooks.at(HookPoint.block(layer, Kind.SHARED_EXPERT_OUT), batch, s.sharedOut, 0, hidden);
            }
            for (int i = 0; i < n * hidden; i++) out[i] += s.sharedOut[i];
        }
    }

    /**
     * The experts in the order they go to the threads of {@link Workers#parallelFor} (one item per
     * expert, thread i owning the i-th contiguous run): each thread's run holds about the same number
     * of token rows, largest first (the longest-processing-time rule), so that what the threads take
     * from each other at the end are the smallest experts.
     */
    static void balance(int[] experts, int n, int[] count, int[] order, int[] sorted, int[] filled, long[] load) {
        System.arraycopy(experts, 0, sorted, 0, n);
        // by token count, descending (insertion sort: a few dozen experts)
        for (int i = 1; i < n; i++) {
            int e = sorted[i], j = i - 1;
            while (j >= 0 && count[sorted[j]] < count[e]) sorted[j + 1] = sorted[j--];
            sorted[j + 1] = e;
        }
        // deal them out, each to the least loaded run that still has room
        int threads = filled.length;
        Arrays.fill(filled, 0);
        Arrays.fill(load, 0);
        for (int i = 0; i < n; i++) {
            int best = -1;
            for (int t = 0; t < threads; t++) {
                int room = (int) ((long) n * (t + 1) / threads - (long) n * t / threads) - filled[t];
                if (room > 0 && (best < 0 || load[t] < load[best])) best = t;
            }
            order[(int) ((long) n * best / threads) + filled[best]++] = sorted[i];
            load[best] += count[sorted[i]];
        }
    }

    /** Routes tokens [from, to) (rules from the hooks when given, else none). */
    private void route(State s, float[] logits, int from, int to, Hooks hooks, Batch batch, int stride) {
        for (int t = from; t < to; t++) {
            s.selectedCount[t] = routing.route(logits, t * experts, hooks == null ? null : hooks.routingRules(layer, batch, t),
                    s.selected, s.selectedWeights, t * stride);
        }
    }

    /**
     * Copies tokens [from, to) of the input to their expert rows ({@code State.selectedRows}). With a
     * rounding, a token's first row is rounded and copied to its others (the same bits as rounding each).
     */
    private void copyRows(State s, float[] in, int from, int to, int stride, Linear rounding) {
        for (int t = from; t < to; t++) {
            int first = -1;
            for (int i = 0; i < s.selectedCount[t]; i++) {
                int row = s.selectedRows[t * stride + i];
                if (first >= 0) {
                    System.arraycopy(s.expertIn, first * hidden, s.expertIn, row * hidden, hidden);
                } else {
                    System.arraycopy(in, t * hidden, s.expertIn, row * hidden, hidden);
                    if (rounding != null) {
                        rounding.roundInput(s.expertIn, row * hidden, 1);
                        first = row;
                    }
                }
            }
        }
    }

    /**
     * out[t] = Σ weight·expert output over token t's experts, for tokens [from, to), added in
     * ascending expert order whatever ran where: the result depends neither on the threads nor on
     * the order of selection.
     */
    private void combine(State s, float[] out, int from, int to, int stride) {
        for (int t = from; t < to; t++) {
            int o = t * hidden;
            Arrays.fill(out, o, o + hidden, 0f);
            for (int done = 0, last = -1; done < s.selectedCount[t]; done++) {
                // the next expert up from the last one added (k is small: a scan beats a sort)
                int next = -1;
                for (int i = 0; i < s.selectedCount[t]; i++) {
                    int e = s.selected[t * stride + i];
                    if (e > last && (next < 0 || e < s.selected[t * stride + next])) next = i;
                }
                last = s.selected[t * stride + next];
                int r = s.selectedRows[t * stride + next] * hidden;
                float weight = s.selectedWeights[t * stride + next];
                for (int i = 0; i < hidden; i++) out[o + i] += weight * s.expertOut[r + i];
            }
        }
    }

    /** Expert e over its rows of the sorted buffers, with worker {@code worker}'s scratch. */
    private void runExpert(State s, int e, int worker, boolean parallel) {
        int from = s.expertOffset[e], m = s.expertCount[e];
        if (expertMlps[e].inLanes(m)) { // straight from the sorted rows and back: the lanes are a copy already
            expertMlps[e].forwardInLanes(s.expertIn, from * hidden, s.expertOut, from * hidden, m, parallel);
            return;
        }
        float[] input = s.expertInView(worker, from, m);
        float[] output = s.expertOutView(worker, m);
        expertMlps[e].forward(input, output, m, s.expertGate[worker], s.expertUp[worker], parallel);
        System.arraycopy(output, 0, s.expertOut, from * hidden, m * hidden);
    }

    /**
     * Rows per chunk of an expert's products in {@link #runExpertsInChunks}: tens of microseconds of
     * work. Long enough that a chunk's rows are read as eight streams 32 rows apart (Matrix's
     * eightStreams): on OLMoE Q8_0 decode 256 gave 15.5–15.6 t/s where 128 gave 15.0–15.5 and 64
     * 14.0–14.8 (alternating runs; Q4_K_M and mini-moe unchanged within noise).
     */
    private static final int CHUNK_ROWS = 256;

    /**
     * Per active expert a, longs a·CHUNK_STATE + … of {@code State.expertChunks} (one cache line per
     * expert): the gate/up chunks not yet taken, the down chunks not yet taken (both packed by
     * {@link Workers#range}), the gate/up chunks not yet finished, and 1 once down may start.
     */
    static final int CHUNK_STATE = 8;
    private static final int UP = 0, DOWN = 1, UP_LEFT = 2, READY = 3;

    /** The gate of the first active expert when every active expert's gate rounds its input like it, else null. */
    private Linear commonRounding(State s, int activeCount) {
        Linear first = expertMlps[s.activeExperts[0]].gate();
        for (int a = 1; a < activeCount; a++) if (!expertMlps[s.activeExperts[a]].gate().roundsLike(first)) return null;
        return first;
    }

    private boolean sameRounding(State s, int activeCount) {
        for (int a = 0; a < activeCount; a++) {
            Mlp mlp = expertMlps[s.activeExperts[a]];
            if (!mlp.gate().roundsLike(mlp.up())) return false;
        }
        return true;
    }

    /**
     * Few tokens per expert (decode). Each thread takes a whole expert and runs it chunk by chunk
     * from the front, streaming through its weights in order: gate and up rows, then, once every
     * gate/up chunk is done, down rows. A thread with no expert left takes chunks from the back of
     * those in progress, so the threads finish together instead of one waiting out the other's last
     * expert. The thread that finishes an expert's last gate/up chunk rounds its activations for
     * down. Every output is what {@link #runExpert} computes for it, whichever thread computes it.
     * {@code rounded}: the rows came in already rounded for gate and up (else each expert rounds its own).
     */
    private void runExpertsInChunks(State s, int activeCount, Workers workers, boolean rounded) {
        int width = expertWidth();
        int upChunks = (width + CHUNK_ROWS - 1) / CHUNK_ROWS, downChunks = (hidden + CHUNK_ROWS - 1) / CHUNK_ROWS;
        for (int a = 0; a < activeCount; a++) {
            int e = s.activeExperts[a];
            if (!rounded) expertMlps[e].gate().roundInput(s.expertIn, s.expertOffset[e] * hidden, s.expertCount[e]);
            int at = a * CHUNK_STATE;
            s.expertChunks.set(at + UP, Workers.range(0, upChunks));
            s.expertChunks.set(at + DOWN, Workers.range(0, downChunks));
            s.expertChunks.set(at + UP_LEFT, upChunks);
            s.expertChunks.set(at + READY, 0);
        }
        s.nextExpert.set(0);
        ExpertChunks task = s.expertChunksTask;
        task.block = this;
        task.activeCount = activeCount;
        workers.parallelFor("experts in chunks", workers.threads(), workers.threads(), task);
        task.block = null;
    }

    /**
     * The parallel task of {@link #runExpertsInChunks}, one per State and reused: a lambda capturing
     * its arguments would be allocated on every call, that is for every layer of every token.
     */
    static final class ExpertChunks implements Workers.RangeTask {
        private final State s;
        MoeBlock block;
        int activeCount;

        ExpertChunks(State s) { this.s = s; }

        @Override
        public void run(int from, int to, int worker) { block.runChunks(s, activeCount); }
    }

    /** One thread's part of {@link #runExpertsInChunks}. */
    private void runChunks(State s, int activeCount) {
        int width = expertWidth();
        AtomicLongArray chunks = s.expertChunks;
        for (int a; (a = s.nextExpert.getAndIncrement()) < activeCount; ) {
            int at = a * CHUNK_STATE;
            for (int c; (c = Workers.take(chunks, at + UP, true)) >= 0; ) upChunk(s, a, c, width);
            while (chunks.get(at + READY) == 0) Thread.onSpinWait(); // a helper's gate/up chunk still running
            for (int c; (c = Workers.take(chunks, at + DOWN, true)) >= 0; ) downChunk(s, a, c, width);
        }
        // every expert has its thread: help from the back
        for (boolean left = true; left; ) {
            left = false;
            boolean progress = false;
            for (int a = 0; a < activeCount; a++) {
                int at = a * CHUNK_STATE, c = Workers.take(chunks, at + UP, false);
                if (c >= 0) {
                    upChunk(s, a, c, width);
                    left = progress = true;
                } else if (chunks.get(at + READY) == 0) {
                    left = true; // its down chunks wait for gate/up chunks running elsewhere
                } else if ((c = Workers.take(chunks, at + DOWN, false)) >= 0) {
                    downChunk(s, a, c, width);
                    left = progress = true;
                }
            }
            if (left && !progress) Thread.onSpinWait();
        }
    }

    private void upChunk(State s, int a, int c, int width) {
        int e = s.activeExperts[a], m = s.expertCount[e];
        int r0 = c * CHUNK_ROWS, r1 = Math.min(width, r0 + CHUNK_ROWS);
        int in = s.expertOffset[e] * hidden, at = s.expertOffset[e] * width;
        Mlp mlp = expertMlps[e];
        try {
            mlp.gate().rows(s.expertIn, in, m, s.expertGates, at, r0, r1);
            mlp.up().rows(s.expertIn, in, m, s.expertUps, at, r0, r1);
            for (int t = 0; t < m; t++) mlp.activate(s.expertGates, s.expertUps, at + t * width + r0, at + t * width + r1);
        } finally {
            // counted down even when the chunk failed, so that no thread waits for it forever (the job rethrows the failure)
            if (s.expertChunks.decrementAndGet(a * CHUNK_STATE + UP_LEFT) == 0) {
                try {
                    mlp.down().roundInput(s.expertGates, at, m);
                } finally {
                    s.expertChunks.set(a * CHUNK_STATE + READY, 1);
                }
            }
        }
    }

    private void downChunk(State s, int a, int c, int width) {
        int e = s.activeExperts[a];
        int r0 = c * CHUNK_ROWS, r1 = Math.min(hidden, r0 + CHUNK_ROWS);
        expertMlps[e].down().rows(s.expertGates, s.expertOffset[e] * width, s.expertCount[e], s.expertOut, s.expertOffset[e] * hidden, r0, r1);
    }

    private void reportTopK(State s, Batch batch, Hooks hooks, int stride) {
        int k = 0;
        for (int t = 0; t < batch.size(); t++) k = Math.max(k, s.selectedCount[t]);
        int[] ids = new int[batch.size() * k];
        float[] weights = new float[batch.size() * k];
        Arrays.fill(ids, -1);
        for (int t = 0; t < batch.size(); t++) {
            System.arraycopy(s.selected, t * stride, ids, t * k, s.selectedCount[t]);
            System.arraycopy(s.selectedWeights, t * stride, weights, t * k, s.selectedCount[t]);
        }
        hooks.routed(layer, batch, ids, weights, k);
    }
}
