package org.factrl.stages;

import java.nio.file.Path;

/**
 * What an SFT run did.
 *
 * @param finalLoss the loss of the last step taken (NaN when no step ran)
 * @param steps optimizer steps done in all (a resumed run counts the earlier ones)
 * @param stepsThisRun steps this call took
 * @param totalSteps the run's planned steps
 * @param seconds wall seconds of this call's training loop
 * @param checkpoint the last complete checkpoint folder
 * @param metrics the metrics log (JSON Lines)
 */
public record SftResult(double finalLoss, long steps, long stepsThisRun, long totalSteps, double seconds, Path checkpoint,
    Path metrics) {}
