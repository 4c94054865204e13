package org.moescope.tensor;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicIntegerArray;

import org.junit.jupiter.api.Test;

class WorkersTest {
    @Test
    void everyIndexRunsExactlyOnceForAnySplit() {
        try (Workers w = new Workers(3)) {
            for (int n : new int[] {1, 2, 3, 5, 7, 64, 1000}) {
                for (int repeat = 0; repeat < 50; repeat++) {
                    AtomicIntegerArray hits = new AtomicIntegerArray(n);
                    w.parallelFor(n, (from, to, worker) -> {
                        for (int i = from; i < to; i++) hits.incrementAndGet(i);
                    });
                    for (int i = 0; i < n; i++) assertThat(hits.get(i)).as("n=%d index %d", n, i).isEqualTo(1);
                }
            }
        }
    }

    /**
     * Jobs share one set of fields (nothing is allocated per call), so a pool thread that wakes late
     * must never run a chunk of a new job with an old task, nor a chunk twice: thousands of small
     * jobs back to back, more threads than this machine's cores, each index stamped by its own job.
     */
    @Test
    void backToBackJobsRunEachChunkOnceWithItsOwnTask() {
        try (Workers w = new Workers(Runtime.getRuntime().availableProcessors() + 1)) {
            java.util.SplittableRandom random = new java.util.SplittableRandom(9);
            int[] stamp = new int[64];
            for (int job = 1; job <= 20_000; job++) {
                int n = 1 + random.nextInt(64), parts = 1 + random.nextInt(3 * w.threads()), id = job;
                AtomicIntegerArray hits = new AtomicIntegerArray(n);
                w.parallelFor(n, parts, (from, to, worker) -> {
                    for (int i = from; i < to; i++) {
                        stamp[i] = id;
                        hits.incrementAndGet(i);
                    }
                });
                for (int i = 0; i < n; i++) {
                    assertThat(hits.get(i)).as("job %d index %d", job, i).isEqualTo(1);
                    assertThat(stamp[i]).as("job %d index %d", job, i).isEqualTo(job);
                }
            }
        }
    }

    @Test
    void concurrentCallersDoNotMixTheirJobs() throws Exception {
        try (Workers w = new Workers(2)) {
            long[][] sums = new long[4][1];
            Thread[] callers = new Thread[4];
            for (int c = 0; c < 4; c++) {
                int id = c;
                callers[c] = Thread.ofPlatform().start(() -> {
                    for (int k = 0; k < 200; k++) {
                        long[] part = new long[3];
                        w.parallelFor(100, (from, to, worker) -> {
                            long s = 0;
                            for (int i = from; i < to; i++) s += i + id;
                            synchronized (part) { part[0] += s; }
                        });
                        sums[id][0] += part[0];
                    }
                });
            }
            for (Thread t : callers) t.join();
            for (int c = 0; c < 4; c++) assertThat(sums[c][0]).isEqualTo(200L * (4950 + 100L * c));
        }
    }

    /** A thread that falls behind hands its unstarted chunks to the others: each still runs once. */
    @Test
    void aSlowThreadsChunksAreTakenOver() {
        try (Workers w = new Workers(2)) {
            int n = 64;
            AtomicIntegerArray hits = new AtomicIntegerArray(n);
            int[] byCaller = new int[1];
            w.parallelFor(n, 16, (from, to, worker) -> {
                if (worker != 0) {
                    sleep(50); // the pool thread's first chunk takes far longer than all the caller's work
                } else {
                    byCaller[0] += to - from;
                }
                for (int i = from; i < to; i++) hits.incrementAndGet(i);
            });
            for (int i = 0; i < n; i++) assertThat(hits.get(i)).as("index %d", i).isEqualTo(1);
            // the pool thread owns half the chunks but, stuck in its first, gets no further
            assertThat(byCaller[0]).as("indices run by the calling thread").isGreaterThanOrEqualTo(n - n / 16);
        }
    }

    /** A chunk that throws on a pool thread fails the call, after every other chunk is done; the pool thread lives on. */
    @Test
    void aFailingChunkFailsTheCallAndThePoolThreadLivesOn() {
        try (Workers w = new Workers(2)) {
            for (int repeat = 0; repeat < 5; repeat++) {
                // the caller holds its own chunk until the pool thread has started its own (chunk 1), so that one fails there
                CountDownLatch failing = new CountDownLatch(1);
                assertThatThrownBy(() -> w.parallelFor(2, 2, (from, to, worker) -> {
                    if (worker == 0) await(failing);
                    else {
                        failing.countDown();
                        throw new IllegalStateException("chunk " + from);
                    }
                })).isInstanceOf(IllegalStateException.class).hasMessage("chunk 1");
                // the next job: the pool thread is still there to take its chunk (a dead one would leave it to the caller)
                CountDownLatch started = new CountDownLatch(1);
                AtomicIntegerArray hits = new AtomicIntegerArray(2);
                w.parallelFor(2, 2, (from, to, worker) -> {
                    if (worker == 0) await(started);
                    else started.countDown();
                    hits.incrementAndGet(worker);
                });
                // (it may also take the caller's chunk, if it gets there first)
                assertThat(hits.get(1)).as("chunks run by the pool thread after its failure").isPositive();
                assertThat(hits.get(0) + hits.get(1)).as("chunks run").isEqualTo(2);
            }
        }
    }

    /** Waits for the latch, at most 10 s (then the caller goes on and takes the chunk itself). */
    private static void await(CountDownLatch latch) {
        try {
            latch.await(10, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /**
     * bench --jobs: while recording, each job is counted under its kind with its wall time, the
     * calling thread's wait at its end and the threads' time outside the task; nested calls count
     * inside the job that made them; nothing is recorded once stopped.
     */
    @Test
    void recordedJobsAreTimedByKind() {
        try (Workers w = new Workers(2)) {
            w.parallelFor("before", 4, (from, to, worker) -> {});
            Workers.JobTimes times = w.startRecording();
            for (int job = 0; job < 5; job++) {
                // chunk 1 runs on the pool thread (the caller's chunk 0 waits until it has started, so that the
                // caller cannot take it) and sleeps 2 ms once chunk 0 has ended: the caller waits that out at the end
                CountDownLatch started = new CountDownLatch(1), ended = new CountDownLatch(1);
                w.parallelFor("uneven", 2, 2, (from, to, worker) -> {
                    if (from == 1) {
                        started.countDown();
                        await(ended);
                        sleep(2);
                    } else {
                        await(started);
                        ended.countDown();
                    }
                });
            }
            w.parallelFor("nesting", 1, (from, to, worker) -> w.parallelFor("nested", 8, (a, b, c) -> sleep(1)));
            w.stopRecording();
            w.parallelFor("after", 4, (from, to, worker) -> {});

            var kinds = times.kinds();
            assertThat(kinds.keySet()).containsExactly("uneven", "nesting");
            long[] uneven = kinds.get("uneven");
            assertThat(uneven[0]).isEqualTo(5);
            assertThat(uneven[1]).as("wall").isGreaterThanOrEqualTo(5 * 2_000_000L);
            // (at least half the sleeps: the caller may be descheduled for a while on a busy machine)
            assertThat(uneven[2]).as("end wait").isBetween(5 * 1_000_000L, uneven[1]);
            // the caller's end wait is time outside the task, so idle; at most every thread idle throughout
            assertThat(uneven[3]).as("idle thread time").isBetween(uneven[2], 2 * uneven[1]);
            long[] nesting = kinds.get("nesting");
            // one chunk run in place by the caller: the nested job's time is its time, the other thread idle throughout
            assertThat(nesting[0]).isEqualTo(1);
            assertThat(nesting[1]).isGreaterThanOrEqualTo(1_000_000L);
            assertThat(nesting[3]).isGreaterThanOrEqualTo(nesting[1]);
        }
    }

    @Test
    void aTableOfAnotherPoolIsRefused() {
        try (Workers two = new Workers(2); Workers three = new Workers(3)) {
            Workers.JobTimes times = two.startRecording();
            assertThatThrownBy(() -> three.startRecording(times)).isInstanceOf(IllegalArgumentException.class).hasMessageContaining("2");
        }
    }
}
