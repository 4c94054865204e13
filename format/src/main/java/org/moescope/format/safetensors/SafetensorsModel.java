package org.moescope.format.safetensors;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeSet;
import java.util.stream.Stream;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import org.moescope.format.FormatException;
import org.moescope.format.TensorData;

/**
 * The weights of a Hugging Face model folder: {@code model.safetensors}, or the shards named by
 * {@code model.safetensors.index.json}'s {@code weight_map}, or (lacking both) every
 * {@code *.safetensors} file in the folder. Tensors of all shards are seen as one map.
 */
public final class SafetensorsModel implements AutoCloseable {
    private final Path folder;
    private final List<SafetensorsFile> files;
    private final Map<String, TensorData> tensors;

    private SafetensorsModel(Path folder, List<SafetensorsFile> files, Map<String, TensorData> tensors) {
        this.folder = folder;
        this.files = files;
        this.tensors = tensors;
    }

    public static SafetensorsModel open(Path folder) {
        if (!Files.isDirectory(folder)) throw new FormatException(folder, "not a folder");
        Path index = folder.resolve("model.safetensors.index.json");
        List<Path> shards = new ArrayList<>();
        Map<String, String> weightMap = null;
        if (Files.isRegularFile(index)) {
            weightMap = readIndex(index);
            for (String shard : new TreeSet<>(weightMap.values())) {
                Path p = folder.resolve(shard).normalize();
                if (!p.getParent().equals(folder.normalize())) throw new FormatException(index, "shard '" + shard + "' lies outside the folder");
                if (!Files.isRegularFile(p)) throw new FormatException(index, "shard '" + shard + "' named in weight_map is missing");
                shards.add(p);
            }
        } else if (Files.isRegularFile(folder.resolve("model.safetensors"))) {
            shards.add(folder.resolve("model.safetensors"));
        } else {
            try (Stream<Path> list = Files.list(folder)) {
                list.filter(p -> p.getFileName().toString().endsWith(".safetensors")).sorted().forEach(shards::add);
            } catch (IOException e) {
                throw new FormatException(folder, "cannot list: " + e.getMessage(), e);
            }
            if (shards.isEmpty()) throw new FormatException(folder, "no .safetensors files in the folder");
        }
        List<SafetensorsFile> files = new ArrayList<>();
        try {
            Map<String, TensorData> tensors = new LinkedHashMap<>();
            for (Path shard : shards) {
                SafetensorsFile f = SafetensorsFile.open(shard);
                files.add(f);
                for (TensorData t : f.tensors()) {
                    if (tensors.put(t.name(), t) != null) throw new FormatException(shard, "tensor '" + t.name() + "' appears in two shards");
                }
            }
            if (weightMap != null) {
                for (Map.Entry<String, String> e : weightMap.entrySet()) {
                    if (!tensors.containsKey(e.getKey())) {
                        throw new FormatException(folder.resolve(e.getValue()), "tensor '" + e.getKey()
                                + "' named in model.safetensors.index.json is not in this shard");
                    }
                }
            }
            return new SafetensorsModel(folder, List.copyOf(files), Collections.unmodifiableMap(tensors));
        } catch (RuntimeException e) {
            files.forEach(SafetensorsFile::close);
            throw e;
        }
    }

    private static Map<String, String> readIndex(Path index) {
        JsonNode root;
        try {
            root = new ObjectMapper().readTree(index.toFile());
        } catch (IOException e) {
            throw new FormatException(index, "malformed JSON: " + e.getMessage(), e);
        }
        JsonNode map = root.get("weight_map");
        if (map == null || !map.isObject()) throw new FormatException(index, "field 'weight_map' is missing or not an object");
        Map<String, String> weightMap = new LinkedHashMap<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = map.fields(); it.hasNext(); ) {
            var e = it.next();
            if (!e.getValue().isTextual()) throw new FormatException(index, "weight_map['" + e.getKey() + "'] is not a file name");
            weightMap.put(e.getKey(), e.getValue().asText());
        }
        return weightMap;
    }

    public Path folder() { return folder; }

    public Collection<TensorData> tensors() { return tensors.values(); }

    public Optional<TensorData> tensor(String name) { return Optional.ofNullable(tensors.get(name)); }

    public TensorData requireTensor(String name) {
        TensorData t = tensors.get(name);
        if (t == null) throw new FormatException(folder, "tensor '" + name + "' is missing");
        return t;
    }

    @Override
    public void close() { files.forEach(SafetensorsFile::close); }
}
