package org.moescope.tensor;

import static org.assertj.core.api.Assertions.assertThat;

import java.lang.management.ManagementFactory;
import org.junit.jupiter.api.Test;

class ArrayAlignmentTest {
    @Test
    void padFollowsTheObjectAlignmentAndTheArrayHeader() {
        assertThat(ArrayAlignment.floatPad("8", "false", "true")).as("default alignment: varies by array").isEqualTo(-1);
        assertThat(ArrayAlignment.floatPad("32", "false", "true")).isEqualTo(-1);
        assertThat(ArrayAlignment.floatPad("64", "false", "true")).as("16-byte header").isEqualTo(12);
        assertThat(ArrayAlignment.floatPad("128", "true", "true")).as("compact headers: 12 bytes").isEqualTo(13);
        assertThat(ArrayAlignment.floatPad("64", "false", "false")).as("no compressed class pointers: 20 bytes").isEqualTo(11);
        assertThat(ArrayAlignment.floatPad(null, "false", "true")).as("not HotSpot").isEqualTo(-1);
        assertThat(ArrayAlignment.floatPad("64", null, null)).isEqualTo(-1);
        assertThat(ArrayAlignment.floatPad("sixty-four", "false", "true")).isEqualTo(-1);
    }

    @Test
    @SuppressWarnings("removal")
    void thisJvmsPadIsWhereItsFloatArraysReachALine() {
        // the tests run with -XX:ObjectAlignmentInBytes=64 as bin/moescope does; the header size
        // ArrayAlignment assumes is checked against the JVM's own answer
        assertThat(ManagementFactory.getRuntimeMXBean().getInputArguments()).contains("-XX:ObjectAlignmentInBytes=64");
        int base = sun.misc.Unsafe.ARRAY_FLOAT_BASE_OFFSET;
        assertThat(ArrayAlignment.FLOAT_PAD).isEqualTo((ArrayAlignment.LINE - base) / Float.BYTES);
    }
}
