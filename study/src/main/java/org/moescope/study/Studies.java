package org.moescope.study;

import java.util.List;
import java.util.Optional;

import org.moescope.study.studies.RefusalExperts;

/** Every study, by name. */
public final class Studies {
    private Studies() {}

    public static List<Study> all() {
        return List.of(new RefusalExperts());
    }

    public static Optional<Study> byName(String name) {
        return all().stream().filter(s -> s.name().equals(name)).findFirst();
    }
}
