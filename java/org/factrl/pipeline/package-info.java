/**
 * The Fact-RLHF pipeline as one call: {@link org.factrl.pipeline.Pipeline#run} with a
 * {@link org.factrl.pipeline.PipelineConfig} built in code (data → base → SFT → reward models with
 * and without facts → PPO RLHF and Fact-RLHF → evaluation of all three → {@code summary.json}), and
 * {@link org.factrl.pipeline.BaseModelSource}, where the base model comes from (the seam for a
 * pretraining stage).
 */
package org.factrl.pipeline;
