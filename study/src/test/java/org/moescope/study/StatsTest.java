package org.moescope.study;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.data.Offset.offset;

import java.util.List;

import org.junit.jupiter.api.Test;
import org.moescope.study.stats.Stats;

class StatsTest {
    @Test
    void spearmanOnAKnownExampleWithTies() {
        // rank correlation of a monotone relation is 1 whatever its shape; a reversal gives -1
        assertThat(Stats.spearman(new double[] {1, 2, 3, 4, 5}, new double[] {1, 4, 9, 16, 25})).isCloseTo(1, offset(1e-12));
        assertThat(Stats.spearman(new double[] {1, 2, 3, 4, 5}, new double[] {5, 4, 3, 2, 1})).isCloseTo(-1, offset(1e-12));
        // ties: x = (1, 2, 2, 3) ranks (1, 2.5, 2.5, 4); y = (1, 3, 2, 4); Pearson of ranks = 0.9486833
        assertThat(Stats.spearman(new double[] {1, 2, 2, 3}, new double[] {1, 3, 2, 4})).isCloseTo(0.9486833, offset(1e-6));
    }

    @Test
    void aurocCountsTiesAsHalf() {
        assertThat(Stats.auroc(new double[] {3, 4}, new double[] {1, 2})).isEqualTo(1.0);
        assertThat(Stats.auroc(new double[] {1, 3}, new double[] {2, 2})).isEqualTo(0.5);
        assertThat(Stats.auroc(new double[] {2}, new double[] {2})).isEqualTo(0.5);
    }

    @Test
    void wilsonIntervalMatchesTheTextbook() {
        // 7 of 10: Wilson 95% interval (0.3968, 0.8922)
        double[] ci = Stats.wilson(7, 10);
        assertThat(ci[0]).isCloseTo(0.3968, offset(1e-4));
        assertThat(ci[1]).isCloseTo(0.8922, offset(1e-4));
    }

    @Test
    void permutationTestSeparatesDifferentGroupsAndNotEqualOnes() {
        double[] a = new double[30], b = new double[30];
        for (int i = 0; i < 30; i++) {
            a[i] = i % 5;
            b[i] = i % 5 + 3;
        }
        assertThat(Stats.permutationTest(a, b, 999, 1)).isEqualTo(1 / 1000.0);
        assertThat(Stats.permutationTest(a, a.clone(), 999, 1)).isGreaterThan(0.5);
    }

    @Test
    void bootstrapIntervalCoversTheMeanAndShrinksWithData() {
        double[] small = {1, 0, 1, 1, 0, 1, 0, 1};
        double[] large = new double[800];
        for (int i = 0; i < large.length; i++) large[i] = small[i % small.length];
        var f1 = Stats.meanWithInterval(small, 3);
        var f2 = Stats.meanWithInterval(large, 3);
        assertThat(f1.low()).isLessThan(0.625).isGreaterThanOrEqualTo(0);
        assertThat(f1.high()).isGreaterThan(0.625).isLessThanOrEqualTo(1);
        assertThat(f2.high() - f2.low()).isLessThan((f1.high() - f1.low()) / 5);
    }

    @Test
    void overlapsAndNpmiAndDistinct() {
        assertThat(Stats.jaccard(new int[] {1, 2, 3}, new int[] {2, 3, 4})).isEqualTo(0.5);
        assertThat(Stats.weightedOverlap(new int[] {1, 2}, new float[] {0.75f, 0.25f}, new int[] {2, 1}, new float[] {0.5f, 0.5f}))
                .isCloseTo(0.75, offset(1e-6));
        assertThat(Stats.npmi(0, 5, 5, 100)).isEqualTo(-1);
        assertThat(Stats.npmi(10, 10, 10, 100)).isCloseTo(1, offset(1e-12)); // always together
        assertThat(Stats.npmi(25, 50, 50, 100)).isCloseTo(0, offset(1e-12)); // independent
        assertThat(Stats.distinctN(List.of(List.of("a", "b", "a", "b")), 2)).isCloseTo(2 / 3.0, offset(1e-12));
    }
}
