package org.moescope.format.gguf;

import java.lang.foreign.Arena;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.moescope.format.FormatException;
import org.moescope.format.TensorData;

/**
 * A GGUF model: one file, or the parts of a split model ({@code name-00001-of-00003.gguf}, as
 * written by llama-gguf-split) seen as one. Metadata comes from the first part; tensors from all.
 * Tensor bytes stay in mapped memory owned by this object; {@link #close()} unmaps them.
 */
public final class GgufFile implements AutoCloseable {
    private static final Pattern SPLIT = Pattern.compile("(.*)-(\\d{5})-of-(\\d{5})\\.gguf");

    private final Arena arena;
    private final List<Path> parts;
    private final int version;
    private final GgufMetadata metadata;
    private final Map<String, TensorData> tensors;

    private GgufFile(Arena arena, List<Path> parts, int version, GgufMetadata metadata, Map<String, TensorData> tensors) {
        this.arena = arena;
        this.parts = parts;
        this.version = version;
        this.metadata = metadata;
        this.tensors = tensors;
    }

    /** Opens a GGUF file, or all parts of a split model given any one of them. */
    public static GgufFile open(Path path) {
        if (!Files.isRegularFile(path)) throw new FormatException(path, "no such file");
        Arena arena = Arena.ofShared();
        try {
            return load(path, arena);
        } catch (RuntimeException e) {
            arena.close();
            throw e;
        }
    }

    private static GgufFile load(Path path, Arena arena) {
        Matcher m = SPLIT.matcher(path.getFileName().toString());
        List<Path> files = new ArrayList<>();
        if (m.matches()) {
            int count = Integer.parseInt(m.group(3));
            if (count < 1) throw new FormatException(path, "split file name claims 0 parts");
            for (int i = 1; i <= count; i++) {
                Path part = path.resolveSibling(String.format("%s-%05d-of-%05d.gguf", m.group(1), i, count));
                if (!Files.isRegularFile(part)) {
                    throw new FormatException(part, "part " + i + " of " + count + " of split model " + path.getFileName() + " is missing");
                }
                files.add(part);
            }
        } else {
            files.add(path);
        }
        List<GgufReader.Part> read = new ArrayList<>();
        for (Path f : files) read.add(GgufReader.read(f, arena));
        GgufReader.Part first = read.getFirst();
        long declared = first.metadata().getLong("split.count").orElse(1);
        if (declared != files.size()) {
            throw new FormatException(path, "metadata 'split.count' = " + declared + " but " + files.size()
                    + " part(s) found" + (files.size() == 1 ? " (name the file as -00001-of-0000N.gguf)" : ""));
        }
        Map<String, TensorData> tensors = new LinkedHashMap<>();
        for (int i = 0; i < read.size(); i++) {
            GgufReader.Part part = read.get(i);
            long number = part.metadata().getLong("split.no").orElse(0);
            if (files.size() > 1 && number != i) {
                throw new FormatException(part.file(), "metadata 'split.no' = " + number + ", expected " + i);
            }
            for (TensorData t : part.tensors()) {
                if (tensors.put(t.name(), t) != null) {
                    throw new FormatException(part.file(), "tensor '" + t.name() + "' also appears in an earlier part");
                }
            }
        }
        long expected = first.metadata().getLong("split.tensors.count").orElse(tensors.size());
        if (expected != tensors.size()) {
            throw new FormatException(path, "metadata 'split.tensors.count' = " + expected + " but the parts hold " + tensors.size() + " tensors");
        }
        return new GgufFile(arena, List.copyOf(files), first.version(), first.metadata(), Collections.unmodifiableMap(tensors));
    }

    public List<Path> parts() { return parts; }

    public Path path() { return parts.getFirst(); }

    public int version() { return version; }

    public GgufMetadata metadata() { return metadata; }

    public Collection<TensorData> tensors() { return tensors.values(); }

    public Optional<TensorData> tensor(String name) { return Optional.ofNullable(tensors.get(name)); }

    public TensorData requireTensor(String name) {
        TensorData t = tensors.get(name);
        if (t == null) throw new FormatException(path(), "tensor '" + name + "' is missing");
        return t;
    }

    /** The model's architecture, {@code general.architecture}. */
    public String architecture() { return metadata.requireString("general.architecture"); }

    @Override
    public void close() { arena.close(); }
}
