package org.moescope.tensor;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;
import java.util.concurrent.locks.ReentrantLock;

/**
 * One persistent pool of compute threads, sized to the cores (or {@code -Dmoescope.threads}).
 * {@link #parallelFor} splits [0, n) into contiguous chunks run by the workers and the calling
 * thread together (each its own run of them first, then helping with the rest); workers spin briefly between jobs (decode issues hundreds of small jobs per
 * token) and park when idle. Jobs from several callers run one after another.
 */
public final class Workers implements AutoCloseable {
    /** Work on [from, to); {@code worker} is 0 for the caller, 1.. for pool threads (index scratch with it). */
    @FunctionalInterface
    public interface RangeTask {
        void run(int from, int to, int worker);
    }

    private static volatile Workers shared;

    /*
     * The job in progress. One set of fields serves every parallelFor call, so that a call allocates
     * nothing (decode makes dozens per token). The caller writes task, n and parts, resets pending and
     * failure, then fills the regions (volatile writes) and bumps the generation; a thread reads the
     * task only after claiming a chunk from a region, which it sees filled only after those writes.
     * A job ends when every chunk has run (pending = 0), so the next job's writes never meet a thread
     * still reading this one's; a thread that wakes late can only find the regions empty or claim a
     * chunk of the job now in progress, and then it runs that job's task, as any helper would. The
     * first chunk to fail is kept in failure and thrown by the caller once every chunk has finished.
     */
    private RangeTask task;
    private int n, parts;
    private final AtomicLongArray regions;
    private final AtomicInteger pending = new AtomicInteger();
    private final AtomicReference<Throwable> failure = new AtomicReference<>();

    /** Longs between two threads' regions: each on its own cache lines, so claiming one's own chunk is not slowed by the other's. */
    private static final int REGION_STRIDE = 16;

    private final int threads;
    private final Thread[] pool;
    private final ReentrantLock lock = new ReentrantLock();
    /**
     * The job count at signal[GENERATION], alone on its cache line: pool threads spin on it between
     * jobs, and with it among the job's other fields every write the caller made to those (task, n,
     * parts) moved the line back from a spinning thread first.
     */
    private final AtomicLongArray signal = new AtomicLongArray(2 * GENERATION);
    private static final int GENERATION = 16;
    private volatile boolean closed;
    private final boolean[] parked;
    /** While recording ({@link #startRecording}): the job table, and each thread's time inside the job's task (a line apart). */
    private volatile JobTimes times;
    private final long[] busy;
    /** Set while a recorded job runs in place on the recording thread. */
    private boolean inPlace;

    public Workers(int threads) {
        if (threads < 1) throw new IllegalArgumentException("threads must be at least 1");
        this.threads = threads;
        this.pool = new Thread[threads - 1];
        this.parked = new boolean[threads];
        this.regions = new AtomicLongArray(threads * REGION_STRIDE);
        this.busy = new long[threads * REGION_STRIDE];
        for (int i = 0; i < pool.length; i++) {
            int index = i + 1;
            pool[i] = Thread.ofPlatform().daemon().name("moescope-worker-" + index).start(() -> loop(index));
        }
    }

    /** The process-wide pool, created on first use with {@code moescope.threads} or all cores. */
    public static Workers shared() {
        Workers w = shared;
        if (w == null) {
            synchronized (Workers.class) {
                if (shared == null) {
                    int t = Integer.getInteger("moescope.threads", Runtime.getRuntime().availableProcessors());
                    shared = new Workers(Math.max(1, t));
                }
                w = shared;
            }
        }
        return w;
    }

    public int threads() { return threads; }

    /** Runs {@code task} over [0, n) in one contiguous chunk per thread and returns when all of it is done. */
    public void parallelFor(int n, RangeTask task) { parallelFor(OTHER, n, task); }

    /** {@link #parallelFor(String, int, int, RangeTask)} in one chunk per thread. */
    public void parallelFor(String kind, int n, RangeTask task) { parallelFor(kind, n, Math.min(n, threads), task); }

    /** {@link #parallelFor(String, int, int, RangeTask)} of kind {@link #OTHER}. */
    public void parallelFor(int n, int parts, RangeTask task) { parallelFor(OTHER, n, parts, task); }

    /** The kind of a job given without one ({@link JobTimes}). */
    public static final String OTHER = "other";

    /**
     * Runs {@code task} over [0, n) in {@code parts} chunks. Each thread owns a contiguous run of
     * chunks and takes them in order (streaming through memory as one chunk per thread would); a
     * thread done with its own takes the last chunks of the others', so a late or slow thread holds
     * the job up by one chunk at most. Use many parts for uneven items (experts with different token
     * counts) or to even out threads that run at different speeds. {@code kind} names the job in
     * {@link JobTimes} while they are recorded (a constant: nothing is built per call).
     */
    public void parallelFor(String kind, int n, int parts, RangeTask task) {
        if (n <= 0) return;
        if (lock.isHeldByCurrentThread()) { // a task of this caller's nests a call: it runs in place, inside its job's time
            task.run(0, n, 0);
            return;
        }
        JobTimes recording = inPlace ? null : times; // jobs inside a job run in place count as its time
        long start = recording == null ? 0 : System.nanoTime();
        if (threads == 1 || n == 1) {
            if (recording == null) {
                task.run(0, n, 0);
                return;
            }
            inPlace = true;
            try {
                task.run(0, n, 0);
            } finally {
                inPlace = false;
            }
            long wall = System.nanoTime() - start;
            recording.add(kind, wall, 0, wall);
            return;
        }
        lock.lock();
        try {
            int chunks = Math.max(1, Math.min(n, parts));
            this.task = task;
            this.n = n;
            this.parts = chunks;
            failure.set(null);
            pending.set(chunks);
            if (recording != null) for (int t = 0; t < threads; t++) busy[t * REGION_STRIDE] = 0;
            for (int t = 0; t < threads; t++) regions.set(t * REGION_STRIDE, range(chunks * t / threads, chunks * (t + 1) / threads));
            signal.incrementAndGet(GENERATION);
            for (int i = 0; i < pool.length; i++) if (parked[i + 1]) LockSupport.unpark(pool[i]);
            work(0);
            long own = recording == null ? 0 : System.nanoTime();
            while (pending.get() > 0) Thread.onSpinWait();
            this.task = null;
            if (recording != null) {
                long end = System.nanoTime(), inside = 0;
                for (int t = 0; t < threads; t++) inside += busy[t * REGION_STRIDE]; // written before each chunk's count-down
                recording.add(kind, end - start, end - own, inside);
            }
            Throwable failed = failure.get();
            if (failed instanceof RuntimeException e) throw e;
            if (failed instanceof Error e) throw e;
            if (failed != null) throw new IllegalStateException(failed);
        } finally {
            lock.unlock();
        }
    }

    /**
     * Starts recording every job's time by kind into a new table (for {@code bench --jobs}); the
     * calling thread's jobs only, which is every job when one thread drives the model. Costs a
     * field read per job and chunk while off.
     */
    public JobTimes startRecording() {
        JobTimes t = newJobTimes();
        startRecording(t);
        return t;
    }

    /** An empty table for this pool's jobs, to record into pass by pass ({@link #startRecording(JobTimes)}). */
    public JobTimes newJobTimes() { return new JobTimes(threads); }

    /** Records on into a table of this pool's ({@link #startRecording()}): passes measured one by one add up. */
    public void startRecording(JobTimes into) {
        if (into.threads != threads) throw new IllegalArgumentException("a table of " + into.threads + " threads' jobs, not " + threads);
        times = into;
    }

    /** Stops recording; the table keeps what was recorded. */
    public void stopRecording() { times = null; }

    private void work(int worker) {
        for (int k = 0; k < threads; k++) {
            int region = (worker + k) % threads * REGION_STRIDE;
            for (int c; (c = take(regions, region, k == 0)) >= 0; ) {
                int from = (int) ((long) n * c / parts), to = (int) ((long) n * (c + 1) / parts);
                long start = times == null ? 0 : System.nanoTime();
                try {
                    task.run(from, to, worker);
                } catch (Throwable t) { // kept for the caller; a pool thread lives on
                    failure.compareAndSet(null, t);
                } finally {
                    if (start != 0) busy[worker * REGION_STRIDE] += System.nanoTime() - start; // before the count-down that lets the caller read it
                    pending.decrementAndGet();
                }
            }
        }
    }

    /** The packed form of the chunk range [from, to) for {@link #take}. */
    public static long range(int from, int to) { return (long) from << 32 | to; }

    /**
     * Claims a chunk of the range at ranges[i] (packed by {@link #range}: [next, end) not yet
     * taken), the first when {@code front} (the owner's next) or the last (a helper's); −1 when
     * none is left.
     */
    public static int take(AtomicLongArray ranges, int i, boolean front) {
        while (true) {
            long v = ranges.get(i);
            int from = (int) (v >>> 32), to = (int) v;
            if (from >= to) return -1;
            if (ranges.compareAndSet(i, v, front ? range(from + 1, to) : range(from, to - 1))) return front ? from : to - 1;
        }
    }

    private void loop(int index) {
        long seen = 0;
        while (true) {
            int spins = 0;
            long now;
            while ((now = signal.get(GENERATION)) == seen) {
                if (++spins < 20_000) {
                    Thread.onSpinWait();
                } else {
                    if (closed) return;
                    parked[index] = true;
                    if (signal.get(GENERATION) == seen && !closed) LockSupport.parkNanos(this, 1_000_000);
                    parked[index] = false;
                }
            }
            seen = now;
            if (closed) return;
            work(index);
        }
    }

    @Override
    public void close() {
        closed = true;
        signal.incrementAndGet(GENERATION); // spinning threads see it and stop
        for (Thread t : pool) LockSupport.unpark(t);
    }

    /**
     * Jobs' time by kind, as {@link #startRecording} collects it: per kind the number of jobs, their
     * wall time on the calling thread, how long it waited at their ends for other threads' last
     * chunks, and the threads' time inside the task (the rest of threads × wall is hand-off and
     * waiting). Written by the calling thread only, under the pool's lock.
     */
    public static final class JobTimes {
        private final int threads;
        private final java.util.Map<String, long[]> kinds = new java.util.LinkedHashMap<>();

        JobTimes(int threads) { this.threads = threads; }

        /** The pool's threads (the calling thread included). */
        public int threads() { return threads; }

        void add(String kind, long wall, long endWait, long inside) {
            long[] k = kinds.get(kind);
            if (k == null) kinds.put(kind, k = new long[4]);
            k[0]++;
            k[1] += wall;
            k[2] += endWait;
            k[3] += inside;
        }

        /**
         * Per kind, in the order first seen: {jobs, wall nanoseconds, the calling thread's wait at
         * the ends, thread nanoseconds not spent in the task (of threads × wall; a job run in place
         * on one thread leaves the others idle)}. Read it from the recording thread, after
         * {@link #stopRecording}.
         */
        public java.util.Map<String, long[]> kinds() {
            java.util.Map<String, long[]> copy = new java.util.LinkedHashMap<>();
            kinds.forEach((kind, k) -> copy.put(kind, new long[] {k[0], k[1], k[2], Math.max(0, threads * k[1] - k[3])}));
            return copy;
        }
    }
}
