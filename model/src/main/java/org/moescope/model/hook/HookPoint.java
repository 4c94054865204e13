package org.moescope.model.hook;

import java.util.Locale;

/**
 * A named place in the forward pass where values can be read or changed, e.g.
 * {@code blocks.3.router.logits} or {@code blocks.3.experts.7.out}. Names are parsed once into
 * this value; the token loop compares kinds and integers, never strings.
 *
 * @param layer  decoder layer for per-block points, -1 for {@code embed}, {@code final_norm}, {@code logits}
 * @param expert routed expert for {@code experts.{e}.out}, else -1
 */
public record HookPoint(Kind kind, int layer, int expert) {

    /** Every hook point kind, with its name pattern. Adding a point means adding it here and at one place in the block. */
    public enum Kind {
        EMBED("embed", false),
        RESID_PRE("resid_pre", true),
        ATTN_OUT("attn.out", true),
        RESID_MID("resid_mid", true),
        ROUTER_LOGITS("router.logits", true),
        ROUTER_TOPK("router.topk", true),
        EXPERT_OUT("experts.{e}.out", true),
        SHARED_EXPERT_OUT("shared_expert.out", true),
        MOE_OUT("moe.out", true),
        RESID_POST("resid_post", true),
        FINAL_NORM("final_norm", false),
        LOGITS("logits", false);

        private final String suffix;
        private final boolean perBlock;

        Kind(String suffix, boolean perBlock) {
            this.suffix = suffix;
            this.perBlock = perBlock;
        }

        public String suffix() { return suffix; }

        public boolean perBlock() { return perBlock; }

        /** The block-relative name ("resid_post") for steering points. */
        public static Kind ofSuffix(String suffix) {
            for (Kind k : values()) if (k.perBlock && k.suffix.equals(suffix)) return k;
            throw new IllegalArgumentException("unknown hook point '" + suffix + "'");
        }
    }

    public static HookPoint embed() { return new HookPoint(Kind.EMBED, -1, -1); }

    public static HookPoint finalNorm() { return new HookPoint(Kind.FINAL_NORM, -1, -1); }

    public static HookPoint logits() { return new HookPoint(Kind.LOGITS, -1, -1); }

    public static HookPoint block(int layer, Kind kind) { return new HookPoint(kind, layer, -1); }

    public static HookPoint expert(int layer, int expert) { return new HookPoint(Kind.EXPERT_OUT, layer, expert); }

    /** Parses {@code embed}, {@code blocks.3.resid_post}, {@code blocks.3.experts.7.out}, {@code logits}, ... */
    public static HookPoint parse(String name) {
        String n = name.trim().toLowerCase(Locale.ROOT);
        switch (n) {
            case "embed": return embed();
            case "final_norm": return finalNorm();
            case "logits": return logits();
            default: break;
        }
        String[] parts = n.split("\\.", 3);
        if (parts.length < 3 || !parts[0].equals("blocks")) throw bad(name);
        int layer;
        try {
            layer = Integer.parseInt(parts[1]);
        } catch (NumberFormatException e) {
            throw bad(name);
        }
        if (layer < 0) throw bad(name);
        String rest = parts[2];
        if (rest.startsWith("experts.") && rest.endsWith(".out")) {
            try {
                int expert = Integer.parseInt(rest.substring("experts.".length(), rest.length() - ".out".length()));
                if (expert < 0) throw bad(name);
                return expert(layer, expert);
            } catch (NumberFormatException e) {
                throw bad(name);
            }
        }
        for (Kind k : Kind.values()) {
            if (k.perBlock && k != Kind.EXPERT_OUT && k.suffix.equals(rest)) return block(layer, k);
        }
        throw bad(name);
    }

    private static IllegalArgumentException bad(String name) {
        return new IllegalArgumentException("'" + name + "' is not a hook point (examples: embed, blocks.3.resid_post, "
                + "blocks.3.router.logits, blocks.3.experts.7.out, final_norm, logits)");
    }

    public String name() {
        if (!kind.perBlock) return kind.suffix;
        if (kind == Kind.EXPERT_OUT) return "blocks." + layer + ".experts." + expert + ".out";
        return "blocks." + layer + "." + kind.suffix;
    }

    @Override
    public String toString() { return name(); }
}
