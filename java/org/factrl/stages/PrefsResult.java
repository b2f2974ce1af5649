package org.factrl.stages;

import java.nio.file.Path;

/**
 * What a {@link PrefsStage} run wrote.
 *
 * @param file the preferences file (sampled pairs, then the bootstrap supplement)
 * @param statsFile the label statistics beside it
 * @param sampledPairs judged pairs of SFT samples in the file
 * @param bootstrapPairs bootstrap pairs added as a supplement
 * @param prompts the reward-model prompts sampled from
 * @param responses responses generated
 * @param seconds wall seconds of the whole call (model loading included)
 * @param samplingSeconds seconds generating and judging (what the sampled pairs cost)
 */
public record PrefsResult(Path file, Path statsFile, int sampledPairs, int bootstrapPairs, int prompts, int responses,
    double seconds, double samplingSeconds) {}
