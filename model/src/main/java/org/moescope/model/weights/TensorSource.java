package org.moescope.model.weights;

import java.nio.file.Path;
import java.util.Optional;

import org.moescope.format.FormatException;
import org.moescope.format.TensorData;

/** Tensors by name from one model file or folder. */
public interface TensorSource {
    Optional<TensorData> find(String name);

    Path path();

    default TensorData require(String name) {
        return find(name).orElseThrow(() -> new FormatException(path(), "tensor '" + name + "' is missing"));
    }

    /** The first of {@code names} present, or null. */
    default TensorData first(String... names) {
        for (String n : names) {
            var t = find(n);
            if (t.isPresent()) return t.get();
        }
        return null;
    }
}
