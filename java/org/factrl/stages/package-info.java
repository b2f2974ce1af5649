/**
 * The pipeline's stages (DESIGN.md §4): each reads a data set and a model, trains or evaluates,
 * and writes a run folder of checkpoints and metrics; each is runnable from Java and from the CLI.
 * Today: {@link org.factrl.stages.SftStage}.
 *
 * <p>The split: {@code org.factrl.train} holds what every stage reuses and knows nothing of a stage
 * — batching ({@link org.factrl.train.ConversationEncoder}, {@link org.factrl.train.ImageConversationBatcher}),
 * the data order ({@link org.factrl.train.DataOrder}), the optimizer, atomic checkpoints
 * ({@link org.factrl.train.CheckpointStore}, {@link org.factrl.train.ModelCheckpoint}), trainer state,
 * metrics and progress; a stage here wires them into one loop with its own loss, config and folder.
 */
package org.factrl.stages;
