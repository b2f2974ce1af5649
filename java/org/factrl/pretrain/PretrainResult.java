package org.factrl.pretrain;

import java.nio.file.Path;

/**
 * What a {@link PretrainStage} call did.
 *
 * @param complete whether every phase finished and the base was written (false after a stop)
 * @param step the run's global step now (text steps, then align steps)
 * @param totalSteps all phases' steps
 * @param textLoss the text phase's last step loss (NaN when it ran no step in this call or has 0 steps)
 * @param alignLoss the align phase's last step loss (NaN likewise)
 * @param model the base folder written at the end ({@code model/}), or null when not complete
 * @param metrics the metrics log
 */
public record PretrainResult(boolean complete, long step, long totalSteps, double textLoss, double alignLoss,
    Path model, Path metrics) {}
