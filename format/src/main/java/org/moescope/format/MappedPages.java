package org.moescope.format;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;

/**
 * Puts a mapped weight file in 2 MB pages where Linux allows it.
 *
 * <p>Decoding reads a few hundred megabytes of weights per token from all over the file; mapped in
 * 4 KB pages, every 4 KB of it costs a TLB miss. Linux maps a file in 2 MB pages only where its
 * page cache holds it in 2 MB folios, and which folios a file gets is settled when it enters the
 * cache: a file just written may sit there in small ones until it is evicted. Measured
 * (docs/PERFORMANCE.md): a just-synthesised OLMoE file's experts read about 3× faster once
 * re-cached in 2 MB folios, and the model decoded 1.2× faster. So, per mapped file of at least
 * {@link #MIN_BYTES}:
 * <ol>
 * <li>{@code madvise(MADV_HUGEPAGE)}: from now on, faults read the file into 2 MB folios;</li>
 * <li>if parts of the file are already cached, a sample of fully cached 2 MB stretches is touched
 * and {@code /proc/self/smaps} says whether they came in as 2 MB pages;</li>
 * <li>if they did not, one 2 MB stretch is dropped from the cache and read back; if it now maps as
 * a 2 MB page (the file system and kernel cache it in large folios), the whole file's cached pages
 * are dropped ({@code posix_fadvise(DONTNEED)}, which drops only clean pages that no process maps),
 * so that decoding reads them back in 2 MB folios: a one-time re-read from storage, announced on
 * stderr. Later runs find them in 2 MB pages.</li>
 * </ol>
 * The mapping's contents never change. {@code MOESCOPE_PAGES} (or {@code -Dmoescope.pages}) chooses:
 * {@code huge} (the default, all three steps), {@code advise} (step 1 only), {@code keep} (nothing).
 * Elsewhere than Linux, or with transparent huge pages off, nothing is done.
 */
public final class MappedPages {
    /** Files smaller than this gain too little to be worth a look. */
    public static final long MIN_BYTES = 64L << 20;

    static final long HUGE = 2L << 20, SMALL = 4096;
    private static final int MADV_WILLNEED = 3, MADV_DONTNEED = 4, MADV_HUGEPAGE = 14, MADV_POPULATE_READ = 22, POSIX_FADV_DONTNEED = 4, O_RDONLY = 0;
    /** Stretches touched to find out how a cached file is mapped. */
    private static final int SAMPLES = 16;

    /** What {@link #prefer2MB} found and did. */
    public enum Outcome {
        /** not Linux, transparent huge pages off, the file too small, or MOESCOPE_PAGES=keep */
        UNCHANGED,
        /** advised; nothing of the file was cached (or MOESCOPE_PAGES=advise): it will be read in 2 MB folios */
        ADVISED,
        /** advised; the cached part is already in 2 MB pages */
        ALREADY_HUGE,
        /** advised and the file's small cached pages dropped, to be read back in 2 MB folios */
        RECACHED
    }

    public enum Policy { HUGE_PAGES, ADVISE, KEEP }

    private MappedPages() {}

    /** The policy from {@code -Dmoescope.pages} or {@code MOESCOPE_PAGES}: huge (default), advise or keep. */
    public static Policy policy() {
        String v = System.getProperty("moescope.pages", System.getenv().getOrDefault("MOESCOPE_PAGES", "huge"));
        return switch (v.trim().toLowerCase(Locale.ROOT)) {
            case "huge", "" -> Policy.HUGE_PAGES;
            case "advise" -> Policy.ADVISE;
            case "keep", "off", "no" -> Policy.KEEP;
            default -> throw new PolicyException("MOESCOPE_PAGES=" + v + ": expected huge, advise or keep");
        };
    }

    /** An unknown MOESCOPE_PAGES value: a user's setting, reported as such. */
    public static final class PolicyException extends IllegalArgumentException {
        PolicyException(String message) { super(message); }
    }

    /** {@link #prefer2MB(Path, MemorySegment, Policy, long)} with the configured policy and {@link #MIN_BYTES}. */
    public static Outcome prefer2MB(Path file, MemorySegment mapped) {
        return prefer2MB(file, mapped, policy(), MIN_BYTES);
    }

    /** Asks for 2 MB pages for {@code mapped}, the whole of {@code file} mapped read-only (class comment). */
    public static Outcome prefer2MB(Path file, MemorySegment mapped, Policy policy, long minBytes) {
        if (policy == Policy.KEEP || mapped.byteSize() < Math.max(minBytes, 2 * HUGE) || !Native.AVAILABLE || !hugePagesEnabled()) {
            return Outcome.UNCHANGED;
        }
        long start = alignUp(mapped.address(), HUGE), end = mapped.address() + mapped.byteSize() & -HUGE;
        if (end <= start) return Outcome.UNCHANGED;
        MemorySegment whole = MemorySegment.ofAddress(start).reinterpret(end - start);
        try {
            if (!madvise(whole, MADV_HUGEPAGE)) return Outcome.UNCHANGED;
            if (policy == Policy.ADVISE) return Outcome.ADVISED;
            long[] cached = fullyCachedStretches(whole);
            if (cached.length == 0) return Outcome.ADVISED;
            for (long at : cached) touch(whole, at);
            long pmd = pmdMappedBytes(start);
            if (pmd >= cached.length * HUGE / 2) return Outcome.ALREADY_HUGE;
            // first one stretch: dropped and read back, does it come in as a 2 MB page? Not on every file
            // system or kernel (ext4 caches files in large folios from Linux 6.16); where not, dropping
            // the whole file would only cost a re-read on every run
            long probe = start + cached[0] - mapped.address();
            if (!drop(file, mapped, probe, HUGE)) return Outcome.ADVISED;
            long without = pmdMappedBytes(start); // (the stretch may have been one of the 2 MB pages)
            touch(whole, cached[0]);
            if (pmdMappedBytes(start) < without + HUGE) return Outcome.ADVISED;
            if (!drop(file, mapped, 0, mapped.byteSize())) return Outcome.ADVISED;
            System.err.printf("moescope: %s was cached in 4 KB pages; dropped it from the page cache so that it is read back in 2 MB pages"
                    + " (faster decoding; a one-time re-read; MOESCOPE_PAGES=keep skips this)%n", file.getFileName());
            return Outcome.RECACHED;
        } catch (Throwable t) { // a libc without these calls: leave the mapping as it is
            return Outcome.UNCHANGED;
        }
    }

    /**
     * Reads {@code mapped} (part of a read-only file mapping) into memory and maps it now rather
     * than on first use ({@code MADV_POPULATE_READ}, or {@code MADV_WILLNEED} on kernels before
     * 5.14), as llama.cpp does with {@code MAP_POPULATE}; false where neither could be asked.
     */
    public static boolean populate(MemorySegment mapped) {
        if (!Native.AVAILABLE || mapped.byteSize() == 0) return false;
        MemorySegment range = pages(mapped);
        try {
            return madvise(range, MADV_POPULATE_READ) || madvise(range, MADV_WILLNEED);
        } catch (Throwable t) {
            return false;
        }
    }

    /** MemAvailable from /proc/meminfo in bytes, or −1 where it cannot be read (not Linux). */
    public static long availableMemory() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/meminfo"))) {
                if (line.startsWith("MemAvailable:")) return Long.parseLong(line.substring(13).replace("kB", "").trim()) * 1024;
            }
        } catch (IOException | RuntimeException e) {
            // below
        }
        return -1;
    }

    /**
     * Bytes of the mapping containing {@code address} that this process maps with 2 MB pages
     * ({@code FilePmdMapped} in /proc/self/smaps), or −1 where that cannot be read.
     */
    public static long pmdMappedBytes(long address) {
        List<String> lines;
        try {
            lines = Files.readAllLines(Path.of("/proc/self/smaps"));
        } catch (IOException | RuntimeException e) {
            return -1;
        }
        boolean inside = false;
        for (String line : lines) {
            if (isRangeLine(line)) {
                int dash = line.indexOf('-'), space = line.indexOf(' ');
                long from = Long.parseUnsignedLong(line.substring(0, dash), 16), to = Long.parseUnsignedLong(line.substring(dash + 1, space), 16);
                inside = Long.compareUnsigned(address, from) >= 0 && Long.compareUnsigned(address, to) < 0;
            } else if (inside && line.startsWith("FilePmdMapped:")) {
                return Long.parseLong(line.substring("FilePmdMapped:".length()).replace("kB", "").trim()) * 1024;
            }
        }
        return -1;
    }

    /** A VMA header line of smaps: "start-end perms offset dev inode [path]". */
    private static boolean isRangeLine(String line) {
        int dash = line.indexOf('-'), space = line.indexOf(' ');
        if (dash <= 0 || space <= dash) return false;
        for (int i = 0; i < space; i++) if (i != dash && Character.digit(line.charAt(i), 16) < 0) return false;
        return true;
    }

    /** Bytes of {@code mapped} (page-aligned within a file mapping) in the page cache now, by mincore; −1 where unknown. */
    static long residentBytes(MemorySegment mapped) {
        if (!Native.AVAILABLE) return -1;
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment vec = residency(pages(mapped), arena);
            if (vec == null) return -1;
            long resident = 0;
            for (long p = 0; p < vec.byteSize(); p++) resident += vec.get(ValueLayout.JAVA_BYTE, p) & 1;
            return resident * SMALL;
        } catch (Throwable t) {
            return -1;
        }
    }

    /** Offsets into {@code whole} of up to {@link #SAMPLES} 2 MB stretches that are wholly in the page cache, spread over it. */
    private static long[] fullyCachedStretches(MemorySegment whole) throws Throwable {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment vec = residency(whole, arena);
            if (vec == null) return new long[0];
            int stretches = (int) (whole.byteSize() / HUGE), perStretch = (int) (HUGE / SMALL);
            long[] found = new long[SAMPLES];
            int n = 0;
            for (int s = 0; s < SAMPLES && s < stretches; s++) {
                int stretch = (int) ((long) s * stretches / Math.min(SAMPLES, stretches));
                boolean all = true;
                for (int p = 0; p < perStretch && all; p++) all = (vec.get(ValueLayout.JAVA_BYTE, (long) stretch * perStretch + p) & 1) != 0;
                if (all) found[n++] = stretch * HUGE;
            }
            return java.util.Arrays.copyOf(found, n);
        }
    }

    /** The whole pages covering {@code mapped}. */
    private static MemorySegment pages(MemorySegment mapped) {
        long start = mapped.address() & -SMALL, end = alignUp(mapped.address() + mapped.byteSize(), SMALL);
        return MemorySegment.ofAddress(start).reinterpret(end - start);
    }

    /** {@code madvise(range, advice)}; whether it succeeded. {@code range} starts on a page. */
    private static boolean madvise(MemorySegment range, int advice) throws Throwable {
        return (int) Native.MADVISE.invokeExact(range, range.byteSize(), advice) == 0;
    }

    /** mincore's answer for {@code range} (whole pages): a byte per 4 KB page, bit 0 set where it is cached; null where refused. */
    private static MemorySegment residency(MemorySegment range, Arena arena) throws Throwable {
        MemorySegment vec = arena.allocate(range.byteSize() / SMALL);
        return (int) Native.MINCORE.invokeExact(range, range.byteSize(), vec) == 0 ? vec : null;
    }

    private static void touch(MemorySegment whole, long at) {
        whole.get(ValueLayout.JAVA_BYTE, at);
    }

    /**
     * Unmaps bytes [offset, offset + length) of the file from this process's mapping (a read-only
     * file mapping: they fault back in) and drops them from the page cache: flushed first, then
     * only clean pages no other process maps.
     */
    private static boolean drop(Path file, MemorySegment mapped, long offset, long length) throws Throwable {
        if (!madvise(MemorySegment.ofAddress(mapped.address() + offset).reinterpret(length), MADV_DONTNEED)) return false;
        try (Arena arena = Arena.ofConfined()) {
            int fd = (int) Native.OPEN.invokeExact(arena.allocateFrom(file.toAbsolutePath().toString()), O_RDONLY, 0);
            if (fd < 0) return false;
            try {
                int synced = (int) Native.FDATASYNC.invokeExact(fd);
                return synced == 0 && (int) Native.FADVISE.invokeExact(fd, offset, length, POSIX_FADV_DONTNEED) == 0;
            } finally {
                int ignored = (int) Native.CLOSE.invokeExact(fd);
            }
        }
    }

    /** Whether the kernel's transparent huge pages are on for madvised memory ("always" or "madvise"). */
    static boolean hugePagesEnabled() {
        try {
            String s = Files.readString(Path.of("/sys/kernel/mm/transparent_hugepage/enabled"));
            return s.contains("[always]") || s.contains("[madvise]");
        } catch (IOException | RuntimeException e) {
            return false;
        }
    }

    private static long alignUp(long v, long to) { return v + to - 1 & -to; }

    /** libc's calls, looked up once; {@link #AVAILABLE} false where any is missing (not Linux). */
    private static final class Native {
        static final boolean AVAILABLE;
        static final MethodHandle MADVISE, MINCORE, OPEN, CLOSE, FADVISE, FDATASYNC;

        static {
            MethodHandle madvise = null, mincore = null, open = null, close = null, fadvise = null, fdatasync = null;
            boolean ok = false;
            if (System.getProperty("os.name", "").toLowerCase(Locale.ROOT).contains("linux")) {
                try {
                    Linker linker = Linker.nativeLinker();
                    SymbolLookup libc = linker.defaultLookup();
                    ValueLayout.OfInt i = ValueLayout.JAVA_INT;
                    ValueLayout.OfLong l = ValueLayout.JAVA_LONG;
                    madvise = linker.downcallHandle(libc.find("madvise").orElseThrow(), FunctionDescriptor.of(i, ValueLayout.ADDRESS, l, i));
                    mincore = linker.downcallHandle(libc.find("mincore").orElseThrow(), FunctionDescriptor.of(i, ValueLayout.ADDRESS, l, ValueLayout.ADDRESS));
                    open = linker.downcallHandle(libc.find("open").orElseThrow(), FunctionDescriptor.of(i, ValueLayout.ADDRESS, i, i),
                            Linker.Option.firstVariadicArg(2));
                    close = linker.downcallHandle(libc.find("close").orElseThrow(), FunctionDescriptor.of(i, i));
                    fadvise = linker.downcallHandle(libc.find("posix_fadvise").orElseThrow(), FunctionDescriptor.of(i, i, l, l, i));
                    fdatasync = linker.downcallHandle(libc.find("fdatasync").orElseThrow(), FunctionDescriptor.of(i, i));
                    ok = true;
                } catch (RuntimeException | Error e) {
                    ok = false;
                }
            }
            AVAILABLE = ok;
            MADVISE = madvise;
            MINCORE = mincore;
            OPEN = open;
            CLOSE = close;
            FADVISE = fadvise;
            FDATASYNC = fdatasync;
        }
    }
}
