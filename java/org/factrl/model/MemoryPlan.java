package org.factrl.model;

/**
 * What a {@link LlavaModel} holds, in bytes (model.h's {@code frl_model_memory}).
 *
 * @param base the parameter blob
 * @param adapters all adapter sets' blobs together
 * @param arena the activation arena's capacity (0 before {@link LlavaModel#plan})
 * @param workspace any other scratch the model keeps
 * @param total the sum: what {@link org.factrl.engine.Device#bytesInUse()} grows by while the model lives
 */
public record MemoryPlan(long base, long adapters, long arena, long workspace, long total) {}
