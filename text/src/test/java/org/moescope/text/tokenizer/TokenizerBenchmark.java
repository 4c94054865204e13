package org.moescope.text.tokenizer;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Encode throughput on one core. Each call encodes a fresh 64 KiB of text (a rotating window over a
 * larger corpus, so the word cache sees realistic reuse). MB/s = ops/s × 64 KiB.
 * Run: bench/jmh text TokenizerBenchmark -f 1 -wi 3 -i 5
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgsAppend = "--add-modules=jdk.incubator.vector")
public class TokenizerBenchmark {
    @Param({"qwen3", "mini-moe"}) public String tokenizer;

    @Param({"english", "mixed"}) public String text;

    private Tokenizer t;
    private String corpus;
    private int offset;
    static final int CHUNK = 64 * 1024;

    @Setup(Level.Trial)
    public void load() {
        Path shared = Path.of(System.getProperty("moescope.shared", "../shared"));
        t = tokenizer.equals("qwen3") ? Tokenizers.fromHuggingFaceFolder(shared.resolve("fixtures/tokenizers/hf/qwen3"))
                : Tokenizers.fromHuggingFaceFolder(shared.resolve("models/mini-moe/hf"));
        StringBuilder sb = new StringBuilder();
        java.util.SplittableRandom r = new java.util.SplittableRandom(1);
        String[] english = ("the of and to in is was for that on with as by at from his her it an are were which this be or had not but "
                + "river bank money account deposit water flows between its banks while the clerk counts coins").split(" ");
        String[] mixed = {"中文", "字符", "日本語", "🦀", "café", "naïve", "1234", "x=3.14;", "\t", "\n", "Ünïcödé", "ß", "Ωμέγα"};
        while (sb.length() < 8 * CHUNK) {
            String w = english[r.nextInt(english.length)];
            if (text.equals("mixed") && r.nextInt(3) == 0) w = mixed[r.nextInt(mixed.length)];
            sb.append(w).append(r.nextInt(12) == 0 ? ". " : " ");
        }
        corpus = sb.toString();
    }

    @Benchmark
    public int[] encode64KiB() {
        offset = (offset + 4099) % (corpus.length() - CHUNK);
        return t.encode(corpus.substring(offset, offset + CHUNK), false, false);
    }

    public static void main(String[] args) {
        System.out.println(new String(new byte[0], StandardCharsets.UTF_8));
    }
}
