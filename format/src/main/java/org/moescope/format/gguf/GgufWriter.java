package org.moescope.format.gguf;

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
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.moescope.format.TensorType;

/**
 * Writes a GGUF v3 file: metadata in insertion order, then tensor infos, then the aligned tensor
 * data. The file is written beside the target and moved into place, so a failed write leaves no
 * half file under the target's name.
 */
public final class GgufWriter {
    private final Map<String, GgufValue> metadata = new LinkedHashMap<>();
    private final List<Entry> tensors = new ArrayList<>();
    private int alignment = GgufReader.DEFAULT_ALIGNMENT;

    private record Entry(String name, TensorType type, long[] shape, long bytes, DataWriter writer) {}

    /** Streams a tensor's bytes into the file, for tensors too large to hold in memory. */
    @FunctionalInterface
    public interface DataWriter {
        /** Writes exactly the tensor's byte size to {@code out} at its current position. */
        void write(FileChannel out) throws IOException;
    }

    public GgufWriter put(String key, GgufValue value) {
        metadata.put(key, value);
        if (key.equals("general.alignment")) alignment = Math.toIntExact((Long) value.value());
        return this;
    }

    public GgufWriter putAll(GgufMetadata source) {
        source.asMap().forEach(this::put);
        return this;
    }

    public GgufWriter remove(String key) {
        metadata.remove(key);
        return this;
    }

    /** Adds a tensor; {@code shape} is row-major (outermost first), {@code data} its exact bytes. */
    public GgufWriter addTensor(String name, TensorType type, long[] shape, MemorySegment data) {
        if (type.ggmlId() < 0) throw new IllegalArgumentException(type + " cannot be stored in GGUF");
        long elements = 1;
        for (long d : shape) elements *= d;
        if (type.bytesFor(elements) != data.byteSize()) {
            throw new IllegalArgumentException("tensor '" + name + "': " + data.byteSize() + " bytes given, "
                    + type.bytesFor(elements) + " expected for " + type + " " + java.util.Arrays.toString(shape));
        }
        tensors.add(new Entry(name, type, shape.clone(), data.byteSize(), out -> writeSegment(out, data)));
        return this;
    }

    /** Adds a tensor whose bytes {@code writer} produces when the file is written. */
    public GgufWriter addTensor(String name, TensorType type, long[] shape, DataWriter writer) {
        if (type.ggmlId() < 0) throw new IllegalArgumentException(type + " cannot be stored in GGUF");
        long elements = 1;
        for (long d : shape) elements *= d;
        long bytes = type.bytesFor(elements);
        if (bytes < 0) throw new IllegalArgumentException("tensor '" + name + "': " + java.util.Arrays.toString(shape) + " is not whole " + type + " blocks");
        tensors.add(new Entry(name, type, shape.clone(), bytes, writer));
        return this;
    }

    public void write(Path target) {
        Path temporary = target.resolveSibling(target.getFileName() + ".partial");
        try {
            try (FileChannel out = FileChannel.open(temporary, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                    StandardOpenOption.TRUNCATE_EXISTING)) {
                Buffer header = new Buffer();
                header.u32(GgufReader.MAGIC).u32(3).u64(tensors.size()).u64(metadata.size());
                metadata.forEach((k, v) -> header.string(k).value(v));
                long offset = 0;
                List<Long> offsets = new ArrayList<>();
                for (Entry t : tensors) {
                    header.string(t.name).u32(t.shape.length);
                    for (int d = t.shape.length - 1; d >= 0; d--) header.u64(t.shape[d]);
                    header.u32(t.type.ggmlId()).u64(offset);
                    offsets.add(offset);
                    offset = GgufReader.alignUp(offset + t.bytes, alignment);
                }
                header.pad(alignment);
                header.writeTo(out);
                long dataStart = out.position();
                for (int i = 0; i < tensors.size(); i++) {
                    out.position(dataStart + offsets.get(i));
                    Entry t = tensors.get(i);
                    long at = dataStart + offsets.get(i);
                    t.writer.write(out);
                    if (out.position() != at + t.bytes) {
                        throw new IOException("tensor '" + t.name + "': " + (out.position() - at) + " bytes written, " + t.bytes + " expected");
                    }
                }
                long end = dataStart + offset;
                if (out.size() < end) out.write(ByteBuffer.allocate((int) (end - out.size())), out.size());
            }
            Files.move(temporary, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            try {
                Files.deleteIfExists(temporary);
            } catch (IOException ignored) {
                // the original failure is the one worth reporting
            }
            throw new UncheckedIOException("cannot write " + target, e);
        }
    }

    /** Copies through a bounded buffer: the data may be heap arrays, mapped files or larger than 2 GiB. */
    public static void writeSegment(FileChannel out, MemorySegment data) throws IOException {
        ByteBuffer buffer = ByteBuffer.allocateDirect((int) Math.min(1 << 24, Math.max(1, data.byteSize())));
        MemorySegment window = MemorySegment.ofBuffer(buffer);
        for (long p = 0; p < data.byteSize(); ) {
            int n = (int) Math.min(buffer.capacity(), data.byteSize() - p);
            MemorySegment.copy(data, p, window, 0, n);
            buffer.clear().limit(n);
            while (buffer.hasRemaining()) out.write(buffer);
            p += n;
        }
    }

    /** A growable little-endian byte buffer for the header. */
    private static final class Buffer {
        private ByteBuffer bytes = ByteBuffer.allocate(1 << 16).order(ByteOrder.LITTLE_ENDIAN);

        private void ensure(long n) {
            if (bytes.remaining() >= n) return;
            long size = Math.max((long) bytes.capacity() * 2, bytes.position() + n);
            ByteBuffer larger = ByteBuffer.allocate(Math.toIntExact(size)).order(ByteOrder.LITTLE_ENDIAN);
            bytes.flip();
            larger.put(bytes);
            bytes = larger;
        }

        Buffer u32(long v) { ensure(4); bytes.putInt((int) v); return this; }

        Buffer u64(long v) { ensure(8); bytes.putLong(v); return this; }

        Buffer string(String s) {
            byte[] b = s.getBytes(StandardCharsets.UTF_8);
            u64(b.length);
            ensure(b.length);
            bytes.put(b);
            return this;
        }

        Buffer pad(int alignment) {
            int n = (int) (GgufReader.alignUp(bytes.position(), alignment) - bytes.position());
            ensure(n);
            for (int i = 0; i < n; i++) bytes.put((byte) 0);
            return this;
        }

        Buffer value(GgufValue v) {
            u32(v.type().id());
            if (v.type() == GgufValueType.ARRAY) return array((GgufArray) v.value());
            return scalar(v.type(), v.value());
        }

        private Buffer scalar(GgufValueType type, Object value) {
            switch (type) {
                case STRING -> string((String) value);
                case UINT8, INT8 -> { ensure(1); bytes.put((byte) (long) (Long) value); }
                case UINT16, INT16 -> { ensure(2); bytes.putShort((short) (long) (Long) value); }
                case UINT32, INT32 -> u32((Long) value);
                case UINT64, INT64 -> u64((Long) value);
                case FLOAT32 -> { ensure(4); bytes.putFloat((Float) value); }
                case FLOAT64 -> { ensure(8); bytes.putDouble((Double) value); }
                case BOOL -> { ensure(1); bytes.put((byte) ((Boolean) value ? 1 : 0)); }
                case ARRAY -> throw new IllegalStateException();
            }
            return this;
        }

        /** Element type, count, elements; a nested array element is encoded the same way. */
        private Buffer array(GgufArray a) {
            u32(a.elementType().id()).u64(a.length());
            for (int i = 0; i < a.length(); i++) {
                switch (a.values()) {
                    case String[] s -> string(s[i]);
                    case float[] f -> { ensure(4); bytes.putFloat(f[i]); }
                    case double[] d -> { ensure(8); bytes.putDouble(d[i]); }
                    case List<?> l -> array((GgufArray) l.get(i));
                    default -> scalar(a.elementType(), a.getLong(i));
                }
            }
            return this;
        }

        void writeTo(FileChannel out) throws IOException {
            bytes.flip();
            while (bytes.hasRemaining()) out.write(bytes);
        }
    }
}
