package org.moescope.format;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.io.OutputStream;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.SplittableRandom;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import org.moescope.format.MappedPages.Outcome;
import org.moescope.format.MappedPages.Policy;

/**
 * A file written in 64 KB pieces sits in the page cache in small folios and maps in 4 KB pages;
 * after {@link MappedPages#prefer2MB} it maps in 2 MB pages, with the same bytes.
 */
class MappedPagesTest {
    private static final long SIZE = 24L << 20;

    @TempDir Path dir;

    @Test
    void aFileCachedInSmallPagesIsReadBackIn2MBPagesWithTheSameBytes() throws IOException {
        assumeTrue(MappedPages.hugePagesEnabled(), "transparent huge pages are off (/sys/kernel/mm/transparent_hugepage/enabled)");
        String fs = Files.getFileStore(dir).type();
        assumeTrue(fs.equals("ext4") && kernelAtLeast(6, 16) || fs.equals("xfs"),
                "the temporary folder is on " + fs + " under Linux " + System.getProperty("os.version") + ": no large folios for its files (ext4 has them from 6.16)");
        Path file = dir.resolve("weights.bin");
        long expected = write(file);

        // as written: small folios, 4 KB pages
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment m = map(file, arena);
            assertThat(checksum(m)).isEqualTo(expected);
            long pmd = MappedPages.pmdMappedBytes(m.address());
            assumeTrue(pmd == 0, "this kernel already caches a freshly written file in 2 MB folios (" + pmd + " bytes mapped so)");
            assertThat(MappedPages.prefer2MB(file, m, Policy.KEEP, 0)).isEqualTo(Outcome.UNCHANGED);
        }
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment m = map(file, arena);
            assertThat(MappedPages.prefer2MB(file, m, Policy.HUGE_PAGES, 0)).isEqualTo(Outcome.RECACHED);
            assertThat(MappedPages.residentBytes(m)).as("cached after the drop").isLessThan(SIZE / 4);
            assertThat(MappedPages.populate(m)).isTrue();
            assertThat(MappedPages.residentBytes(m)).as("cached after populate").isEqualTo(SIZE);
            assertThat(checksum(m)).isEqualTo(expected);
            // the aligned interior (at least 22 of the 24 MB) now in 2 MB pages
            assertThat(MappedPages.pmdMappedBytes(m.address())).isGreaterThanOrEqualTo(SIZE - 2 * MappedPages.HUGE);
        }
        // a second look finds it so and leaves the cache alone
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment m = map(file, arena);
            assertThat(MappedPages.prefer2MB(file, m, Policy.HUGE_PAGES, 0)).isEqualTo(Outcome.ALREADY_HUGE);
            assertThat(checksum(m)).isEqualTo(expected);
        }
    }

    @Test
    void whereTheFileSystemCannotCacheIn2MBFoliosTheCacheIsNotDropped() throws IOException {
        Path shm = Path.of("/dev/shm");
        assumeTrue(MappedPages.hugePagesEnabled() && Files.isDirectory(shm) && Files.getFileStore(shm).type().equals("tmpfs"), "no /dev/shm tmpfs here");
        assumeTrue(Files.readString(Path.of("/sys/kernel/mm/transparent_hugepage/shmem_enabled")).contains("[never]"),
                "tmpfs here may give huge pages (shmem_enabled is not never)");
        Path file = Files.createTempFile(shm, "moescope-pages", ".bin");
        try {
            long expected = write(file);
            try (Arena arena = Arena.ofConfined()) {
                MemorySegment m = map(file, arena);
                assertThat(checksum(m)).isEqualTo(expected);
            }
            try (Arena arena = Arena.ofConfined()) {
                MemorySegment m = map(file, arena);
                // one stretch tried, still 4 KB pages: the rest is left as it was
                assertThat(MappedPages.prefer2MB(file, m, Policy.HUGE_PAGES, 0)).isEqualTo(Outcome.ADVISED);
                assertThat(MappedPages.residentBytes(m)).isEqualTo(SIZE);
                assertThat(checksum(m)).isEqualTo(expected);
            }
        } finally {
            Files.delete(file);
        }
    }

    @Test
    void smallFilesAndTheKeepPolicyAreLeftAlone() throws IOException {
        Path file = dir.resolve("small.bin");
        Files.write(file, new byte[1 << 20]);
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment m = map(file, arena);
            assertThat(MappedPages.prefer2MB(file, m)).isEqualTo(Outcome.UNCHANGED);
            assertThat(MappedPages.prefer2MB(file, m, Policy.HUGE_PAGES, 0)).isEqualTo(Outcome.UNCHANGED); // under two 2 MB pages
        }
    }

    @Test
    void thePolicyIsReadFromTheSystemProperty() {
        String before = System.getProperty("moescope.pages");
        try {
            System.setProperty("moescope.pages", "keep");
            assertThat(MappedPages.policy()).isEqualTo(Policy.KEEP);
            System.setProperty("moescope.pages", "Advise");
            assertThat(MappedPages.policy()).isEqualTo(Policy.ADVISE);
            System.setProperty("moescope.pages", "sometimes");
            org.assertj.core.api.Assertions.assertThatThrownBy(MappedPages::policy)
                    .isInstanceOf(MappedPages.PolicyException.class)
                    .hasMessageContaining("MOESCOPE_PAGES=sometimes").hasMessageContaining("huge, advise or keep");
        } finally {
            if (before == null) System.clearProperty("moescope.pages"); else System.setProperty("moescope.pages", before);
        }
    }

    private static boolean kernelAtLeast(int major, int minor) {
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("(\\d+)\\.(\\d+)").matcher(System.getProperty("os.version"));
        if (!m.lookingAt()) return false;
        int ma = Integer.parseInt(m.group(1)), mi = Integer.parseInt(m.group(2));
        return ma > major || ma == major && mi >= minor;
    }

    /** Random bytes in 64 KB writes; their checksum. */
    private static long write(Path file) throws IOException {
        SplittableRandom random = new SplittableRandom(7);
        byte[] piece = new byte[64 << 10];
        long sum = 0;
        try (OutputStream out = Files.newOutputStream(file)) {
            for (long at = 0; at < SIZE; at += piece.length) {
                random.nextBytes(piece);
                for (byte b : piece) sum = sum * 31 + b;
                out.write(piece);
            }
        }
        return sum;
    }

    private static long checksum(MemorySegment m) {
        long sum = 0;
        for (long i = 0; i < m.byteSize(); i++) sum = sum * 31 + m.get(ValueLayout.JAVA_BYTE, i);
        return sum;
    }

    private static MemorySegment map(Path file, Arena arena) throws IOException {
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ)) {
            return channel.map(FileChannel.MapMode.READ_ONLY, 0, channel.size(), arena);
        }
    }
}
