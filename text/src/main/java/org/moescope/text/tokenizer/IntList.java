package org.moescope.text.tokenizer;

import java.util.Arrays;

/** A growable int array. */
final class IntList {
    private int[] values = new int[16];
    private int size;

    void add(int v) {
        if (size == values.length) values = Arrays.copyOf(values, size * 2);
        values[size++] = v;
    }

    void addAll(int[] vs) {
        for (int v : vs) add(v);
    }

    int size() { return size; }

    int get(int i) { return values[i]; }

    int[] toArray() { return Arrays.copyOf(values, size); }
}
