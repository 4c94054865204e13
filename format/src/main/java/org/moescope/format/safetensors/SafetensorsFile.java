package org.moescope.format.safetensors;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Collection;
import java.util.Collections;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

import org.moescope.format.FormatException;
import org.moescope.format.MappedPages;
import org.moescope.format.TensorData;
import org.moescope.format.TensorType;

/**
 * One {@code .safetensors} file: an 8-byte little-endian header length, a JSON header naming each
 * tensor's dtype, shape and {@code data_offsets} relative to the end of the header, then the data.
 * The data is mapped, not read; every offset is checked against the file.
 */
public final class SafetensorsFile implements AutoCloseable {
    /** Headers beyond this are refused (the reference implementation's own limit is 100 MB). */
    static final long MAX_HEADER_BYTES = 100L << 20;
    private static final ObjectMapper JSON = new ObjectMapper();

    private final Path path;
    private final Arena arena;
    private final Map<String, String> metadata;
    private final Map<String, TensorData> tensors;

    private SafetensorsFile(Path path, Arena arena, Map<String, String> metadata, Map<String, TensorData> tensors) {
        this.path = path;
        this.arena = arena;
        this.metadata = metadata;
        this.tensors = tensors;
    }

    public static SafetensorsFile open(Path path) {
        Arena arena = Arena.ofShared();
        try {
            return read(path, arena);
        } catch (RuntimeException e) {
            arena.close();
            throw e;
        }
    }

    private static SafetensorsFile read(Path path, Arena arena) {
        MemorySegment bytes;
        try (FileChannel channel = FileChannel.open(path, StandardOpenOption.READ)) {
            bytes = channel.map(FileChannel.MapMode.READ_ONLY, 0, channel.size(), arena);
        } catch (IOException e) {
            throw new FormatException(path, "cannot read: " + e.getMessage(), e);
        }
        MappedPages.prefer2MB(path, bytes);
        if (bytes.byteSize() < 8) throw new FormatException(path, 0, "file of " + bytes.byteSize() + " bytes has no safetensors header");
        long headerSize = bytes.get(ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), 0);
        if (headerSize < 2 || headerSize > MAX_HEADER_BYTES || headerSize > bytes.byteSize() - 8) {
            throw new FormatException(path, 0, "header length " + Long.toUnsignedString(headerSize)
                    + " does not fit in the file of " + bytes.byteSize() + " bytes (not a safetensors file, or truncated)");
        }
        byte[] header = bytes.asSlice(8, headerSize).toArray(ValueLayout.JAVA_BYTE);
        JsonNode root;
        try {
            root = JSON.readTree(header);
        } catch (JsonProcessingException e) {
            throw new FormatException(path, 8 + e.getLocation().getByteOffset(), "malformed header JSON: " + e.getOriginalMessage());
        } catch (IOException e) {
            throw new FormatException(path, 8, "malformed header JSON: " + e.getMessage());
        }
        if (!(root instanceof ObjectNode object)) throw new FormatException(path, 8, "header JSON is not an object");
        long dataStart = 8 + headerSize;
        long dataSize = bytes.byteSize() - dataStart;
        Map<String, String> metadata = new LinkedHashMap<>();
        Map<String, TensorData> tensors = new LinkedHashMap<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = object.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            String name = e.getKey();
            JsonNode node = e.getValue();
            if (name.equals("__metadata__")) {
                if (!node.isObject()) throw new FormatException(path, 8, "header field '__metadata__' is not an object");
                node.fields().forEachRemaining(m -> metadata.put(m.getKey(), m.getValue().asText()));
                continue;
            }
            tensors.put(name, tensor(path, bytes, dataStart, dataSize, name, node));
        }
        return new SafetensorsFile(path, arena, Collections.unmodifiableMap(metadata), Collections.unmodifiableMap(tensors));
    }

    private static TensorData tensor(Path path, MemorySegment bytes, long dataStart, long dataSize, String name, JsonNode node) {
        String where = "tensor '" + name + "'";
        if (!node.isObject()) throw new FormatException(path, 8, where + " is not an object in the header");
        JsonNode dtype = node.get("dtype");
        if (dtype == null || !dtype.isTextual()) throw new FormatException(path, 8, where + ": field 'dtype' is missing or not a string");
        TensorType type = TensorType.ofSafetensorsName(dtype.asText()).orElseThrow(() ->
                new FormatException(path, 8, where + ": unknown dtype '" + dtype.asText() + "'"));
        JsonNode shapeNode = node.get("shape");
        if (shapeNode == null || !shapeNode.isArray()) throw new FormatException(path, 8, where + ": field 'shape' is missing or not an array");
        long[] shape = new long[shapeNode.size()];
        long elements = 1;
        for (int i = 0; i < shape.length; i++) {
            JsonNode d = shapeNode.get(i);
            if (!d.canConvertToLong() || !d.isIntegralNumber() || d.asLong() < 0) {
                throw new FormatException(path, 8, where + ": shape[" + i + "] is not a non-negative integer");
            }
            shape[i] = d.asLong();
            elements = shape[i] == 0 ? 0 : (elements > Long.MAX_VALUE / shape[i] ? -1 : elements * shape[i]);
            if (elements < 0) throw new FormatException(path, 8, where + ": element count overflows");
        }
        JsonNode offsets = node.get("data_offsets");
        if (offsets == null || !offsets.isArray() || offsets.size() != 2 || !offsets.get(0).isIntegralNumber()
                || !offsets.get(1).isIntegralNumber()) {
            throw new FormatException(path, 8, where + ": field 'data_offsets' is not a pair of integers");
        }
        long begin = offsets.get(0).asLong();
        long end = offsets.get(1).asLong();
        if (begin < 0 || end < begin || end > dataSize) {
            throw new FormatException(path, dataStart + Math.max(0, begin), where + ": data_offsets [" + begin + ", " + end
                    + ") lie outside the " + dataSize + " data bytes (truncated?)");
        }
        long expected = type.bytesFor(elements);
        if (end - begin != expected) {
            throw new FormatException(path, dataStart + begin, where + ": " + (end - begin) + " data bytes, but " + type
                    + " " + java.util.Arrays.toString(shape) + " needs " + expected);
        }
        return new TensorData(name, type, shape, bytes.asSlice(dataStart + begin, end - begin));
    }

    public Path path() { return path; }

    public Map<String, String> metadata() { return metadata; }

    public Collection<TensorData> tensors() { return tensors.values(); }

    public Optional<TensorData> tensor(String name) { return Optional.ofNullable(tensors.get(name)); }

    public TensorData requireTensor(String name) {
        TensorData t = tensors.get(name);
        if (t == null) throw new FormatException(path, "tensor '" + name + "' is missing");
        return t;
    }

    @Override
    public void close() { arena.close(); }
}
