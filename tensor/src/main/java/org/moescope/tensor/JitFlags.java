package org.moescope.tensor;

import java.lang.management.ManagementFactory;
import java.util.ArrayList;
import java.util.List;

/**
 * The JIT commands the kernels rely on. Methods that take vectors must be inlined, or their vectors
 * are allocated on every call (decoding at half speed), and the prefill tile's packed reduction and
 * the vector exp must be compiled on their own (inlined, they take their callers past C2's budget); {@code bin/moescope} and the tests pass both. A JVM that embeds moescope
 * as a library and lacks them is told so once, on standard error, with the flags to add.
 */
public final class JitFlags {
    private JitFlags() {}

    /** The commands, as given on a java command line. */
    public static final List<String> REQUIRED = List.of(
            "-XX:CompileCommand=inline,org.moescope.tensor.Kernel::sum*",
            "-XX:CompileCommand=dontinline,org.moescope.tensor.Kernel::packedButterflies",
            "-XX:CompileCommand=dontinline,org.moescope.tensor.VectorExp::expShifted");

    private static volatile boolean checked;

    /** The required commands missing from {@code jvmArguments} (empty when all are there). */
    public static List<String> missing(List<String> jvmArguments) {
        List<String> missing = new ArrayList<>();
        for (String flag : REQUIRED) if (!jvmArguments.contains(flag)) missing.add(flag);
        return missing;
    }

    /** Prints, once per process, which required commands this JVM was started without. */
    public static void checkOnce() {
        if (checked) return;
        checked = true;
        List<String> missing;
        try {
            missing = missing(ManagementFactory.getRuntimeMXBean().getInputArguments());
        } catch (RuntimeException | LinkageError e) { // no management support: nothing to say
            return;
        }
        if (!missing.isEmpty()) {
            System.err.println("moescope: this JVM runs without " + String.join(" ", missing)
                    + "; the kernels then allocate their vectors and run up to 2x slower. Start java with them"
                    + " (bin/moescope does; docs/ARCHITECTURE.md lists every flag).");
        }
    }
}
