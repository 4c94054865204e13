package org.moescope.format.gguf;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.moescope.format.FormatException;
import org.moescope.format.MappedPages;
import org.moescope.format.TensorData;
import org.moescope.format.TensorType;

/**
 * Parses one GGUF file (docs/gguf.md in llama.cpp): header, metadata, tensor infos; maps the
 * tensor data without copying. Every read is bounds-checked against the file, and every count is
 * checked against the bytes that remain before anything is allocated for it.
 */
final class GgufReader {
    static final int MAGIC = 0x46554747; // "GGUF" read as a little-endian uint32
    static final int DEFAULT_ALIGNMENT = 32;
    private static final int MAX_DIMS = 4; // GGML_MAX_DIMS
    private static final int MAX_ARRAY_NESTING = 16;

    private static final ValueLayout.OfInt U32 = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfLong U64 = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfShort U16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfDouble F64 = ValueLayout.JAVA_DOUBLE_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    /** What one file holds. */
    record Part(Path file, int version, GgufMetadata metadata, List<TensorData> tensors, long dataOffset, int alignment) {}

    private final Path file;
    private final MemorySegment bytes;
    private long position;

    private GgufReader(Path file, MemorySegment bytes) {
        this.file = file;
        this.bytes = bytes;
    }

    static Part read(Path file, Arena arena) {
        MemorySegment mapped;
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ)) {
            mapped = channel.map(FileChannel.MapMode.READ_ONLY, 0, channel.size(), arena);
        } catch (IOException e) {
            throw new FormatException(file, "cannot read: " + e.getMessage(), e);
        }
        MappedPages.prefer2MB(file, mapped);
        return new GgufReader(file, mapped).read();
    }

    private Part read() {
        if (bytes.byteSize() < 4 || bytes.get(U32, 0) != MAGIC) {
            String seen = bytes.byteSize() < 4 ? "a file of " + bytes.byteSize() + " bytes" : quoteMagic();
            throw new FormatException(file, 0, "not a GGUF file: magic is " + seen + ", expected \"GGUF\"");
        }
        position = 4;
        long version = u32("version");
        if (version == 1) {
            throw new FormatException(file, 4, "GGUF version 1 is not supported (32-bit counts; re-convert with a current llama.cpp)");
        }
        if (version != 2 && version != 3) {
            String hint = Integer.reverseBytes((int) version) <= 3 ? " (a big-endian GGUF? only little-endian files are supported)" : "";
            throw new FormatException(file, 4, "unknown GGUF version " + version + hint);
        }
        long tensorCount = u64("tensor_count");
        long kvCount = u64("metadata_kv_count");
        // A tensor info is at least 8 (name length) + 4 (n_dims) + 4 (type) + 8 (offset) bytes,
        // a key-value pair at least 8 (key length) + 4 (type) + 1 (value).
        checkCount(tensorCount, 24, 8, "tensor_count");
        checkCount(kvCount, 13, 16, "metadata_kv_count");

        Map<String, GgufValue> metadata = new LinkedHashMap<>();
        for (long i = 0; i < kvCount; i++) {
            long keyAt = position;
            String key = string("metadata key #" + i);
            GgufValue value = value(key, 0);
            if (metadata.put(key, value) != null) {
                throw new FormatException(file, keyAt, "metadata key '" + key + "' appears twice");
            }
        }
        GgufMetadata meta = new GgufMetadata(file, metadata);
        int alignment = alignment(meta);

        record Info(String name, long[] ne, TensorType type, long offset, long at) {}
        List<Info> infos = new ArrayList<>((int) tensorCount);
        for (long i = 0; i < tensorCount; i++) {
            long at = position;
            String name = string("name of tensor #" + i);
            long dims = u32("n_dims of tensor '" + name + "'");
            if (dims > MAX_DIMS) {
                throw new FormatException(file, at, "tensor '" + name + "' has " + dims + " dimensions, at most " + MAX_DIMS + " allowed");
            }
            long[] ne = new long[(int) dims];
            for (int d = 0; d < dims; d++) {
                ne[d] = u64("ne[" + d + "] of tensor '" + name + "'");
                if (ne[d] < 0) throw new FormatException(file, position - 8, "tensor '" + name + "' has a negative dimension");
            }
            long typeAt = position;
            long typeId = u32("type of tensor '" + name + "'");
            TensorType type = TensorType.ofGgmlId(typeId).orElseThrow(() ->
                    new FormatException(file, typeAt, "tensor '" + name + "': type " + typeId + " is not a known ggml type"));
            long offset = u64("offset of tensor '" + name + "'");
            infos.add(new Info(name, ne, type, offset, at));
        }
        long dataOffset = alignUp(position, alignment);
        if (tensorCount > 0 && dataOffset > bytes.byteSize()) {
            throw new FormatException(file, position, "file ends before its tensor data (truncated)");
        }

        List<TensorData> tensors = new ArrayList<>(infos.size());
        java.util.Set<String> names = new java.util.HashSet<>();
        for (Info info : infos) {
            if (!names.add(info.name)) {
                throw new FormatException(file, info.at, "tensor '" + info.name + "' appears twice");
            }
            long elements = 1;
            for (long d : info.ne) {
                elements = d == 0 ? 0 : (elements > Long.MAX_VALUE / d ? -1 : elements * d);
                if (elements < 0) throw new FormatException(file, info.at, "tensor '" + info.name + "': element count overflows");
            }
            long columns = info.ne.length == 0 ? 1 : info.ne[0];
            if (columns % info.type.blockSize() != 0) {
                throw new FormatException(file, info.at, "tensor '" + info.name + "': row length " + columns
                        + " is not a multiple of " + info.type + "'s block size " + info.type.blockSize());
            }
            long size = info.type.bytesFor(elements);
            if (size < 0) throw new FormatException(file, info.at, "tensor '" + info.name + "': byte size overflows");
            if (info.offset % alignment != 0) {
                throw new FormatException(file, info.at, "tensor '" + info.name + "': data offset " + info.offset
                        + " is not a multiple of the alignment " + alignment);
            }
            long start = dataOffset + info.offset;
            if (info.offset > bytes.byteSize() || start < 0 || start > bytes.byteSize() - size) {
                throw new FormatException(file, info.at, "tensor '" + info.name + "': data [" + start + ", " + (start + size)
                        + ") lies outside the file of " + bytes.byteSize() + " bytes (truncated?)");
            }
            long[] shape = new long[info.ne.length];
            for (int d = 0; d < shape.length; d++) shape[d] = info.ne[shape.length - 1 - d];
            tensors.add(new TensorData(info.name, info.type, shape, bytes.asSlice(start, size)));
        }
        return new Part(file, (int) version, meta, List.copyOf(tensors), dataOffset, alignment);
    }

    private int alignment(GgufMetadata meta) {
        var value = meta.get("general.alignment");
        if (value.isEmpty()) return DEFAULT_ALIGNMENT;
        long a = meta.requireLong("general.alignment");
        if (a <= 0 || a > (1 << 20) || Long.bitCount(a) != 1) {
            throw new FormatException(file, "metadata 'general.alignment' = " + a + " is not a power of two");
        }
        return (int) a;
    }

    private String quoteMagic() {
        StringBuilder sb = new StringBuilder("\"");
        for (int i = 0; i < 4; i++) {
            int b = bytes.get(ValueLayout.JAVA_BYTE, i) & 0xFF;
            sb.append(b >= 32 && b < 127 ? String.valueOf((char) b) : String.format("\\x%02x", b));
        }
        return sb.append('"').toString();
    }

    private void checkCount(long count, long minimumBytesEach, long fieldOffset, String field) {
        long remaining = bytes.byteSize() - position;
        if (count < 0 || count > remaining / minimumBytesEach) {
            throw new FormatException(file, fieldOffset, field + " = " + Long.toUnsignedString(count)
                    + " cannot fit in the " + remaining + " bytes that follow (absurd count, or the file is truncated)");
        }
    }

    private void need(long n, String field) {
        if (n < 0 || position > bytes.byteSize() - n) {
            throw new FormatException(file, position, "file ends while reading " + field + " (truncated)");
        }
    }

    private long u32(String field) {
        need(4, field);
        long v = bytes.get(U32, position) & 0xFFFFFFFFL;
        position += 4;
        return v;
    }

    private long u64(String field) {
        need(8, field);
        long v = bytes.get(U64, position);
        position += 8;
        return v;
    }

    private String string(String field) {
        long at = position;
        long length = u64("length of " + field);
        if (length < 0 || length > bytes.byteSize() - position) {
            throw new FormatException(file, at, field + ": string length " + Long.toUnsignedString(length)
                    + " runs past the end of the file");
        }
        byte[] b = bytes.asSlice(position, length).toArray(ValueLayout.JAVA_BYTE);
        position += length;
        return new String(b, StandardCharsets.UTF_8);
    }

    private GgufValue value(String key, int depth) {
        long at = position;
        long typeId = u32("type of '" + key + "'");
        GgufValueType type = GgufValueType.ofId(typeId);
        if (type == null) throw new FormatException(file, at, "metadata '" + key + "': unknown value type " + typeId);
        if (type == GgufValueType.ARRAY) return GgufValue.ofArray(array(key, depth));
        return new GgufValue(type, scalar(type, key));
    }

    private Object scalar(GgufValueType type, String key) {
        String field = "value of '" + key + "'";
        if (type == GgufValueType.STRING) return string(field);
        need(type.size(), field);
        Object v = switch (type) {
            case UINT8 -> (long) (bytes.get(ValueLayout.JAVA_BYTE, position) & 0xFF);
            case INT8 -> (long) bytes.get(ValueLayout.JAVA_BYTE, position);
            case UINT16 -> (long) (bytes.get(U16, position) & 0xFFFF);
            case INT16 -> (long) bytes.get(U16, position);
            case UINT32 -> bytes.get(U32, position) & 0xFFFFFFFFL;
            case INT32 -> (long) bytes.get(U32, position);
            case UINT64, INT64 -> bytes.get(U64, position);
            case FLOAT32 -> bytes.get(F32, position);
            case FLOAT64 -> bytes.get(F64, position);
            case BOOL -> {
                byte b = bytes.get(ValueLayout.JAVA_BYTE, position);
                if (b != 0 && b != 1) throw new FormatException(file, position, "metadata '" + key + "': bool value " + b + " is neither 0 nor 1");
                yield b == 1;
            }
            default -> throw new IllegalStateException(type.toString());
        };
        position += type.size();
        return v;
    }

    private GgufArray array(String key, int depth) {
        if (depth >= MAX_ARRAY_NESTING) {
            throw new FormatException(file, position, "metadata '" + key + "': arrays nested deeper than " + MAX_ARRAY_NESTING);
        }
        long at = position;
        long typeId = u32("element type of '" + key + "'");
        GgufValueType type = GgufValueType.ofId(typeId);
        if (type == null) throw new FormatException(file, at, "metadata '" + key + "': unknown array element type " + typeId);
        long count = u64("length of '" + key + "'");
        long remaining = bytes.byteSize() - position;
        if (count < 0 || count > remaining / type.minimumSize()) {
            throw new FormatException(file, at + 4, "metadata '" + key + "': array length " + Long.toUnsignedString(count)
                    + " cannot fit in the " + remaining + " bytes that follow");
        }
        int n = (int) count;
        Object values = switch (type) {
            case UINT8, INT8 -> bulk(n, ValueLayout.JAVA_BYTE, byte[]::new);
            case UINT16, INT16 -> { short[] a = new short[n]; for (int i = 0; i < n; i++) a[i] = bytes.get(U16, position + 2L * i); yield a; }
            case UINT32, INT32 -> { int[] a = new int[n]; for (int i = 0; i < n; i++) a[i] = bytes.get(U32, position + 4L * i); yield a; }
            case UINT64, INT64 -> { long[] a = new long[n]; for (int i = 0; i < n; i++) a[i] = bytes.get(U64, position + 8L * i); yield a; }
            case FLOAT32 -> { float[] a = new float[n]; for (int i = 0; i < n; i++) a[i] = bytes.get(F32, position + 4L * i); yield a; }
            case FLOAT64 -> { double[] a = new double[n]; for (int i = 0; i < n; i++) a[i] = bytes.get(F64, position + 8L * i); yield a; }
            case BOOL -> { boolean[] a = new boolean[n]; for (int i = 0; i < n; i++) a[i] = bytes.get(ValueLayout.JAVA_BYTE, position + i) != 0; yield a; }
            case STRING -> {
                String[] a = new String[n];
                for (int i = 0; i < n; i++) a[i] = string("element " + i + " of '" + key + "'");
                yield a;
            }
            case ARRAY -> {
                List<GgufArray> a = new ArrayList<>(n);
                for (int i = 0; i < n; i++) a.add(array(key + "[" + i + "]", depth + 1));
                yield a;
            }
        };
        if (type != GgufValueType.STRING && type != GgufValueType.ARRAY) position += count * type.size();
        return new GgufArray(type, values);
    }

    private byte[] bulk(int n, ValueLayout.OfByte layout, java.util.function.IntFunction<byte[]> make) {
        byte[] a = make.apply(n);
        MemorySegment.copy(bytes, layout, position, a, 0, n);
        return a;
    }

    static long alignUp(long offset, long alignment) {
        return (offset + alignment - 1) / alignment * alignment;
    }
}
