package org.moescope.format.safetensors;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.LinkedHashMap;
import java.util.Map;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

import org.moescope.format.TensorType;

/** Writes a safetensors file (float32 and int64 tensors are what moescope produces). */
public final class SafetensorsWriter {
    private final Map<String, Entry> tensors = new LinkedHashMap<>();
    private final Map<String, String> metadata = new LinkedHashMap<>();

    private record Entry(TensorType type, long[] shape, MemorySegment data) {}

    public SafetensorsWriter metadata(String key, String value) {
        metadata.put(key, value);
        return this;
    }

    public SafetensorsWriter add(String name, long[] shape, float[] values) {
        return add(name, TensorType.F32, shape, MemorySegment.ofArray(values.clone()));
    }

    public SafetensorsWriter add(String name, long[] shape, long[] values) {
        return add(name, TensorType.I64, shape, MemorySegment.ofArray(values.clone()));
    }

    public SafetensorsWriter add(String name, TensorType type, long[] shape, MemorySegment data) {
        long elements = 1;
        for (long d : shape) elements *= d;
        if (type.bytesFor(elements) != data.byteSize()) {
            throw new IllegalArgumentException("tensor '" + name + "': " + data.byteSize() + " bytes for " + elements + " " + type);
        }
        tensors.put(name, new Entry(type, shape.clone(), data));
        return this;
    }

    public void write(Path target) {
        ObjectMapper json = new ObjectMapper();
        ObjectNode header = json.createObjectNode();
        if (!metadata.isEmpty()) {
            ObjectNode meta = header.putObject("__metadata__");
            metadata.forEach(meta::put);
        }
        long offset = 0;
        for (var e : tensors.entrySet()) {
            ObjectNode t = header.putObject(e.getKey());
            t.put("dtype", e.getValue().type.safetensorsName());
            var shape = t.putArray("shape");
            for (long d : e.getValue().shape) shape.add(d);
            long size = e.getValue().data.byteSize();
            t.putArray("data_offsets").add(offset).add(offset + size);
            offset += size;
        }
        byte[] headerBytes = header.toString().getBytes(StandardCharsets.UTF_8);
        int padded = (headerBytes.length + 7) / 8 * 8; // keeps the data 8-byte aligned
        Path temporary = target.resolveSibling(target.getFileName() + ".partial");
        try (FileChannel out = FileChannel.open(temporary, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                StandardOpenOption.TRUNCATE_EXISTING)) {
            ByteBuffer head = ByteBuffer.allocate(8 + padded).order(ByteOrder.LITTLE_ENDIAN);
            head.putLong(padded).put(headerBytes);
            while (head.hasRemaining()) head.put((byte) ' ');
            head.flip();
            while (head.hasRemaining()) out.write(head);
            for (Entry e : tensors.values()) {
                org.moescope.format.gguf.GgufWriter.writeSegment(out, e.data);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + target, e);
        }
        try {
            Files.move(temporary, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + target, e);
        }
    }
}
