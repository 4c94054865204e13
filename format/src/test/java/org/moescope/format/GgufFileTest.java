package org.moescope.format;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.moescope.format.gguf.GgufArray;
import org.moescope.format.gguf.GgufFile;
import org.moescope.format.gguf.GgufValue;
import org.moescope.format.gguf.GgufValueType;
import org.moescope.format.gguf.GgufWriter;
import org.moescope.testkit.SharedFiles;

class GgufFileTest {
    @TempDir Path dir;

    @Test
    void miniMoeQ8HasItsArchitectureAndTensors() {
        Path file = SharedFiles.require("models/mini-moe/mini-moe-q8_0.gguf");
        try (GgufFile gguf = GgufFile.open(file)) {
            assertThat(gguf.version()).isEqualTo(3);
            assertThat(gguf.architecture()).isEqualTo("qwen3moe");
            assertThat(gguf.metadata().requireLong("qwen3moe.block_count")).isEqualTo(6);
            assertThat(gguf.metadata().getStrings("tokenizer.ggml.tokens").orElseThrow()).hasSize(8192);
            TensorData experts = gguf.requireTensor("blk.0.ffn_gate_exps.weight");
            assertThat(experts.shape()).containsExactly(32, 192, 256);
            assertThat(experts.type()).isEqualTo(TensorType.Q8_0);
            assertThat(experts.byteSize()).isEqualTo(32L * 192 * 256 / 32 * 34);
        }
    }

    @Test
    void writerRoundTripsEveryMetadataTypeAndNestedArrays() {
        Path file = dir.resolve("all.gguf");
        float[] weights = {1, 2, 3, 4, 5, 6, 7, 8};
        new GgufWriter()
                .put("general.architecture", GgufValue.of("test"))
                .put("u8", new GgufValue(GgufValueType.UINT8, 250L))
                .put("i8", new GgufValue(GgufValueType.INT8, -5L))
                .put("u16", new GgufValue(GgufValueType.UINT16, 65000L))
                .put("i16", new GgufValue(GgufValueType.INT16, -300L))
                .put("u32", GgufValue.ofUint32(4_000_000_000L))
                .put("i32", GgufValue.ofInt32(-7))
                .put("f32", GgufValue.ofFloat32(1.5f))
                .put("bool", GgufValue.ofBool(true))
                .put("u64", GgufValue.ofUint64(1L << 40))
                .put("i64", new GgufValue(GgufValueType.INT64, -(1L << 40)))
                .put("f64", new GgufValue(GgufValueType.FLOAT64, 2.25))
                .put("strings", GgufValue.ofStrings(List.of("a", "é", "")))
                .put("nested", GgufValue.ofArray(new GgufArray(GgufValueType.ARRAY, List.of(
                        new GgufArray(GgufValueType.INT32, new int[] {1, 2}),
                        new GgufArray(GgufValueType.STRING, new String[] {"x"})))))
                .addTensor("w", TensorType.F32, new long[] {2, 4}, MemorySegment.ofArray(weights))
                .addTensor("v", TensorType.F32, new long[] {3}, MemorySegment.ofArray(new float[] {9, 8, 7}))
                .write(file);
        try (GgufFile gguf = GgufFile.open(file)) {
            var m = gguf.metadata();
            assertThat(m.requireLong("u8")).isEqualTo(250);
            assertThat(m.requireLong("i8")).isEqualTo(-5);
            assertThat(m.requireLong("u16")).isEqualTo(65000);
            assertThat(m.requireLong("i16")).isEqualTo(-300);
            assertThat(m.requireLong("u32")).isEqualTo(4_000_000_000L);
            assertThat(m.requireLong("i32")).isEqualTo(-7);
            assertThat(m.getDouble("f32", 0)).isEqualTo(1.5);
            assertThat(m.getBool("bool")).contains(true);
            assertThat(m.requireLong("u64")).isEqualTo(1L << 40);
            assertThat(m.requireLong("i64")).isEqualTo(-(1L << 40));
            assertThat(m.getDouble("f64", 0)).isEqualTo(2.25);
            assertThat(m.getStrings("strings").orElseThrow()).containsExactly("a", "é", "");
            GgufArray nested = m.requireArray("nested");
            assertThat(nested.length()).isEqualTo(2);
            assertThat(((List<?>) nested.values()).get(1).toString()).isEqualTo("[\"x\"]");
            TensorData w = gguf.requireTensor("w");
            assertThat(w.shape()).containsExactly(2, 4);
            assertThat(w.data().toArray(java.lang.foreign.ValueLayout.JAVA_FLOAT)).containsExactly(weights);
            assertThat(gguf.requireTensor("v").data().address() % 32).isZero();
        }
    }

    @Test
    void splitModelIsReadAsOneAndAMissingPartIsNamed() throws IOException {
        for (int part = 0; part < 2; part++) {
            GgufWriter w = new GgufWriter()
                    .put("general.architecture", GgufValue.of("test"))
                    .put("split.no", new GgufValue(GgufValueType.UINT16, (long) part))
                    .put("split.count", new GgufValue(GgufValueType.UINT16, 2L))
                    .put("split.tensors.count", GgufValue.ofInt32(2));
            w.addTensor("t" + part, TensorType.F32, new long[] {4}, MemorySegment.ofArray(new float[] {part, 1, 2, 3}));
            w.write(dir.resolve("m-0000" + (part + 1) + "-of-00002.gguf"));
        }
        try (GgufFile gguf = GgufFile.open(dir.resolve("m-00001-of-00002.gguf"))) {
            assertThat(gguf.tensors()).extracting(TensorData::name).containsExactly("t0", "t1");
            assertThat(gguf.parts()).hasSize(2);
        }
        Files.delete(dir.resolve("m-00002-of-00002.gguf"));
        assertThatThrownBy(() -> GgufFile.open(dir.resolve("m-00001-of-00002.gguf")))
                .isInstanceOf(FormatException.class)
                .hasMessageContaining("m-00002-of-00002.gguf").hasMessageContaining("missing");
    }

    // ---- bad input: each error names the file, the field and the byte offset ----

    private Path validFile() {
        Path file = dir.resolve("valid.gguf");
        new GgufWriter().put("general.architecture", GgufValue.of("test"))
                .addTensor("w", TensorType.F32, new long[] {2, 32}, MemorySegment.ofArray(new float[64]))
                .write(file);
        return file;
    }

    private Path withBytes(byte[] bytes) throws IOException {
        Path file = dir.resolve("bad.gguf");
        Files.write(file, bytes);
        return file;
    }

    private static void putLong(byte[] b, int at, long v) {
        ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN).putLong(at, v);
    }

    private static void putInt(byte[] b, int at, int v) {
        ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN).putInt(at, v);
    }

    @Test
    void wrongMagicIsNamed() throws IOException {
        byte[] b = Files.readAllBytes(validFile());
        b[0] = 'X';
        Path bad = withBytes(b);
        assertThatThrownBy(() -> GgufFile.open(bad)).isInstanceOf(FormatException.class)
                .hasMessageContaining("bad.gguf").hasMessageContaining("magic").hasMessageContaining("offset 0");
    }

    @Test
    void unknownVersionIsNamed() throws IOException {
        byte[] b = Files.readAllBytes(validFile());
        putInt(b, 4, 9);
        Path bad = withBytes(b);
        assertThatThrownBy(() -> GgufFile.open(bad)).hasMessageContaining("unknown GGUF version 9").hasMessageContaining("offset 4");
    }

    @Test
    void absurdTensorCountFailsBeforeAllocating() throws IOException {
        byte[] b = Files.readAllBytes(validFile());
        putLong(b, 8, 1L << 40);
        Path bad = withBytes(b);
        assertThatThrownBy(() -> GgufFile.open(bad)).hasMessageContaining("tensor_count = 1099511627776").hasMessageContaining("offset 8");
    }

    @Test
    void absurdMetadataCountFailsBeforeAllocating() throws IOException {
        byte[] b = Files.readAllBytes(validFile());
        putLong(b, 16, -1L);
        Path bad = withBytes(b);
        assertThatThrownBy(() -> GgufFile.open(bad)).hasMessageContaining("metadata_kv_count").hasMessageContaining("offset 16");
    }

    @Test
    void truncatedFileNamesTheTensorWhoseDataIsMissing() throws IOException {
        byte[] b = Files.readAllBytes(validFile());
        Path bad = withBytes(java.util.Arrays.copyOf(b, b.length - 10));
        assertThatThrownBy(() -> GgufFile.open(bad)).hasMessageContaining("tensor 'w'").hasMessageContaining("outside the file");
    }

    @Test
    void truncatedHeaderIsNamed() throws IOException {
        byte[] b = Files.readAllBytes(validFile());
        Path bad = withBytes(java.util.Arrays.copyOf(b, 30));
        assertThatThrownBy(() -> GgufFile.open(bad)).hasMessageContaining("truncated").hasMessageContaining("bad.gguf");
    }

    @Test
    void unknownTensorTypeIsNamedWithItsOffset() throws IOException {
        byte[] b = Files.readAllBytes(validFile());
        // header 24 + key "general.architecture" (8+20) + type 4 + value (8+4) = 68; tensor info:
        // name (8+1) + n_dims 4 + ne 2*8 -> type at 68 + 9 + 4 + 16 = 97
        putInt(b, 97, 99);
        Path bad = withBytes(b);
        assertThatThrownBy(() -> GgufFile.open(bad))
                .hasMessageContaining("tensor 'w': type 99 is not a known ggml type").hasMessageContaining("offset 97");
    }

    @Test
    void tensorOffsetBeyondTheFileIsRefused() throws IOException {
        byte[] b = Files.readAllBytes(validFile());
        putLong(b, 101, 1L << 40);
        Path bad = withBytes(b);
        assertThatThrownBy(() -> GgufFile.open(bad)).hasMessageContaining("tensor 'w'").hasMessageContaining("outside the file");
    }

    @Test
    void absurdStringLengthIsRefused() throws IOException {
        byte[] b = Files.readAllBytes(validFile());
        putLong(b, 24, 1L << 50);
        Path bad = withBytes(b);
        assertThatThrownBy(() -> GgufFile.open(bad)).hasMessageContaining("string length").hasMessageContaining("offset 24");
    }

    @Test
    void emptyFileIsNotAGgufFile() throws IOException {
        Path bad = withBytes(new byte[0]);
        assertThatThrownBy(() -> GgufFile.open(bad)).hasMessageContaining("not a GGUF file");
    }
}
