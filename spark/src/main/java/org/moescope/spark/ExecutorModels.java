package org.moescope.spark;

import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

import org.moescope.model.ModelFile;
import org.moescope.runtime.TextModel;

/**
 * One model per executor JVM: opened (mapped, not copied) on first use from a path every executor
 * can read, then shared by all tasks of that JVM. Tasks carry only the path, never the model.
 */
final class ExecutorModels {
    private static final Map<String, TextModel> MODELS = new ConcurrentHashMap<>();

    private ExecutorModels() {}

    static TextModel get(String path) {
        return MODELS.computeIfAbsent(path, p -> TextModel.open(ModelFile.open(Path.of(p))));
    }

    /** How many models this JVM has opened (for tests: one, however many tasks ran). */
    static int opened() { return MODELS.size(); }
}
