package org.moescope.tensor;

import static org.assertj.core.api.Assertions.assertThat;

import java.lang.management.ManagementFactory;
import java.util.List;

import org.junit.jupiter.api.Test;

class JitFlagsTest {
    @Test
    void namesTheCommandsAJvmLacks() {
        assertThat(JitFlags.missing(List.of("-Xmx4g"))).isEqualTo(JitFlags.REQUIRED);
        assertThat(JitFlags.missing(List.of("-Xmx4g", JitFlags.REQUIRED.get(0)))).isEqualTo(JitFlags.REQUIRED.subList(1, JitFlags.REQUIRED.size()));
        assertThat(JitFlags.missing(JitFlags.REQUIRED)).isEmpty();
    }

    /** The tests run as bin/moescope does (Surefire's argLine), so they see the code users run. */
    @Test
    void theTestJvmHasThem() {
        assertThat(JitFlags.missing(ManagementFactory.getRuntimeMXBean().getInputArguments())).isEmpty();
    }
}
