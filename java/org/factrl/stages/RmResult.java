package org.factrl.stages;

import java.nio.file.Path;

/**
 * What a reward-model run did.
 *
 * @param finalLoss the loss of the last step taken (NaN when no step ran this call)
 * @param heldOutAccuracy share of held-out pairs with s_pref &gt; s_other after the last step (NaN when
 *     no step ran this call)
 * @param heldOutLoss the mean pairwise loss over the held-out pairs then (without the centring term)
 * @param heldOutPairs the number of held-out pairs
 * @param steps optimizer steps done in all (a resumed run counts the earlier ones)
 * @param stepsThisRun steps this call took
 * @param totalSteps the run's planned steps
 * @param seconds wall seconds of this call's training loop
 * @param checkpoint the last complete checkpoint folder
 * @param metrics the metrics log (JSON Lines)
 */
public record RmResult(double finalLoss, double heldOutAccuracy, double heldOutLoss, int heldOutPairs, long steps,
    long stepsThisRun, long totalSteps, double seconds, Path checkpoint, Path metrics) {}
