package org.moescope.study;

/** A study: a pipeline from a data set to summary.json and report.html in the output folder. */
public interface Study {
    String name();

    /** One line for --help. */
    String description();

    /** Runs the study and writes DIR/summary.json and DIR/report.html; returns the summary. */
    StudyOutput run(StudyContext context);
}
