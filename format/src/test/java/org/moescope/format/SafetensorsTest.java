package org.moescope.format;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.moescope.format.safetensors.SafetensorsFile;
import org.moescope.format.safetensors.SafetensorsModel;
import org.moescope.format.safetensors.SafetensorsWriter;
import org.moescope.testkit.SharedFiles;

class SafetensorsTest {
    @TempDir Path dir;

    @Test
    void miniMoeBf16WeightsOpen() {
        Path folder = SharedFiles.require("models/mini-moe/hf");
        try (SafetensorsModel model = SafetensorsModel.open(folder)) {
            TensorData embed = model.requireTensor("model.embed_tokens.weight");
            assertThat(embed.type()).isEqualTo(TensorType.BF16);
            assertThat(embed.shape()).containsExactly(8192, 256);
        }
    }

    @Test
    void writerRoundTripsFloatsAndLongs() {
        Path file = dir.resolve("t.safetensors");
        new SafetensorsWriter().add("a", new long[] {2, 2}, new float[] {1, 2, 3, 4})
                .add("ids", new long[] {3}, new long[] {7, 8, 9}).metadata("format", "pt").write(file);
        try (SafetensorsFile f = SafetensorsFile.open(file)) {
            assertThat(f.metadata()).containsEntry("format", "pt");
            assertThat(f.requireTensor("a").data().toArray(ValueLayout.JAVA_FLOAT)).containsExactly(1, 2, 3, 4);
            assertThat(f.requireTensor("ids").data().toArray(ValueLayout.JAVA_LONG)).containsExactly(7, 8, 9);
        }
    }

    private Path raw(String header, int dataBytes) throws IOException {
        byte[] h = header.getBytes(StandardCharsets.UTF_8);
        ByteBuffer b = ByteBuffer.allocate(8 + h.length + dataBytes).order(ByteOrder.LITTLE_ENDIAN);
        b.putLong(h.length).put(h);
        Path file = dir.resolve("bad.safetensors");
        Files.write(file, b.array());
        return file;
    }

    @Test
    void malformedJsonNamesFileAndOffset() throws IOException {
        Path bad = raw("{\"a\": {\"dtype\": \"F32\",,}}", 0);
        assertThatThrownBy(() -> SafetensorsFile.open(bad)).isInstanceOf(FormatException.class)
                .hasMessageContaining("bad.safetensors").hasMessageContaining("malformed header JSON").hasMessageContaining("offset");
    }

    @Test
    void dataOutsideTheFileIsRefused() throws IOException {
        Path bad = raw("{\"a\": {\"dtype\": \"F32\", \"shape\": [4], \"data_offsets\": [0, 16]}}", 8);
        assertThatThrownBy(() -> SafetensorsFile.open(bad)).hasMessageContaining("tensor 'a'").hasMessageContaining("outside");
    }

    @Test
    void sizeThatDisagreesWithShapeIsRefused() throws IOException {
        Path bad = raw("{\"a\": {\"dtype\": \"F32\", \"shape\": [3], \"data_offsets\": [0, 16]}}", 16);
        assertThatThrownBy(() -> SafetensorsFile.open(bad)).hasMessageContaining("tensor 'a'").hasMessageContaining("needs 12");
    }

    @Test
    void unknownDtypeIsNamed() throws IOException {
        Path bad = raw("{\"a\": {\"dtype\": \"F7\", \"shape\": [1], \"data_offsets\": [0, 1]}}", 1);
        assertThatThrownBy(() -> SafetensorsFile.open(bad)).hasMessageContaining("unknown dtype 'F7'");
    }

    @Test
    void absurdHeaderLengthIsRefused() throws IOException {
        Path file = dir.resolve("huge.safetensors");
        Files.write(file, ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN).putLong(1L << 40).array());
        assertThatThrownBy(() -> SafetensorsFile.open(file)).hasMessageContaining("header length 1099511627776");
    }

    @Test
    void missingShardIsNamed() throws IOException {
        Path folder = Files.createDirectory(dir.resolve("sharded"));
        new SafetensorsWriter().add("a", new long[] {1}, new float[] {1}).write(folder.resolve("model-00001-of-00002.safetensors"));
        Files.writeString(folder.resolve("model.safetensors.index.json"), """
                {"metadata": {}, "weight_map": {"a": "model-00001-of-00002.safetensors", "b": "model-00002-of-00002.safetensors"}}""");
        assertThatThrownBy(() -> SafetensorsModel.open(folder)).hasMessageContaining("model-00002-of-00002.safetensors").hasMessageContaining("missing");
        new SafetensorsWriter().add("b", new long[] {1}, new float[] {2}).write(folder.resolve("model-00002-of-00002.safetensors"));
        try (SafetensorsModel m = SafetensorsModel.open(folder)) {
            assertThat(m.tensors()).extracting(TensorData::name).containsExactlyInAnyOrder("a", "b");
        }
    }
}
