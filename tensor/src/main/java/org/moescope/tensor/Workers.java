package org.moescope.tensor;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import java.util.concurrent.locks.ReentrantLock;

/**
 * One persistent pool of compute threads, sized to the cores (or {@code -Dmoescope.threads}).
 * {@link #parallelFor} splits [0, n) into contiguous chunks run by the workers and the calling
 * thread together; workers spin briefly between jobs (decode issues hundreds of small jobs per
 * token) and park when idle. Jobs from several callers run one after another.
 */
public final class Workers implements AutoCloseable {
    /** Work on [from, to); {@code worker} is 0 for the caller, 1.. for pool threads (index scratch with it). */
    @FunctionalInterface
    public interface RangeTask {
        void run(int from, int to, int worker);
    }

    private static volatile Workers shared;

    private final int threads;
    private final Thread[] pool;
    private final ReentrantLock lock = new ReentrantLock();
    /** (job generation << 32) | next chunk: a chunk can only be claimed for the job it belongs to. */
    private final AtomicLong ticket = new AtomicLong();
    private final AtomicInteger pending = new AtomicInteger();
    private volatile RangeTask task;
    private volatile int n;
    private volatile int chunks;
    private volatile long generation;
    private volatile boolean closed;
    private final boolean[] parked;

    public Workers(int threads) {
        if (threads < 1) throw new IllegalArgumentException("threads must be at least 1");
        this.threads = threads;
        this.pool = new Thread[threads - 1];
        this.parked = new boolean[threads];
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
    public void parallelFor(int n, RangeTask task) { parallelFor(n, Math.min(n, threads), task); }

    /**
     * Runs {@code task} over [0, n) in {@code parts} chunks taken by whichever thread is free
     * (use n parts for uneven items, such as experts with different token counts).
     */
    public void parallelFor(int n, int parts, RangeTask task) {
        if (n <= 0) return;
        if (threads == 1 || n == 1) {
            task.run(0, n, 0);
            return;
        }
        lock.lock();
        try {
            this.task = task;
            this.n = n;
            this.chunks = Math.max(1, Math.min(n, parts));
            pending.set(chunks);
            long g = generation + 1;
            ticket.set(g << 32);
            generation = g;
            for (int i = 0; i < pool.length; i++) if (parked[i + 1]) LockSupport.unpark(pool[i]);
            work(0, g);
            while (pending.get() > 0) Thread.onSpinWait();
            this.task = null;
        } finally {
            lock.unlock();
        }
    }

    private void work(int worker, long job) {
        RangeTask t = task;
        int total = n, parts = chunks;
        while (t != null) {
            long v = ticket.get();
            if ((v >>> 32) != job || (int) v >= parts) return; // another job's ticket, or nothing left
            if (!ticket.compareAndSet(v, v + 1)) continue;
            int c = (int) v;
            int from = (int) ((long) total * c / parts), to = (int) ((long) total * (c + 1) / parts);
            try {
                t.run(from, to, worker);
            } finally {
                pending.decrementAndGet();
            }
        }
    }

    private void loop(int index) {
        long seen = 0;
        while (!closed) {
            int spins = 0;
            while (generation == seen && !closed) {
                if (++spins < 20_000) {
                    Thread.onSpinWait();
                } else {
                    parked[index] = true;
                    if (generation == seen && !closed) LockSupport.parkNanos(this, 1_000_000);
                    parked[index] = false;
                }
            }
            seen = generation;
            work(index, seen);
        }
    }

    @Override
    public void close() {
        closed = true;
        for (Thread t : pool) LockSupport.unpark(t);
    }
}
