package org.moescope.study;

import java.util.List;
import java.util.Optional;

import org.moescope.study.studies.RefusalExperts;

/** Every study, by name. */
public final class Studies {
    private Studies() {}

    public static List<Study> all() {
        return List.of(new RefusalExperts(), new org.moescope.study.studies.CognitiveExperts(), new org.moescope.study.studies.VectorCreativity(), new org.moescope.study.studies.Debias(), new org.moescope.study.studies.WordSense(), new org.moescope.study.studies.Importance(), new org.moescope.study.studies.Prune(), new org.moescope.study.studies.Consistency(), new org.moescope.study.studies.SuperExperts(), new org.moescope.study.studies.DynamicRouting());
    }

    public static Optional<Study> byName(String name) {
        return all().stream().filter(s -> s.name().equals(name)).findFirst();
    }
}
