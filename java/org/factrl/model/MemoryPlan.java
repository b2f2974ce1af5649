package org.factrl.model;

/**
 * What the native side of a {@link LlavaModel} holds, in bytes (model.h's {@code frl_model_memory}).
 * Heads, head activations, gradients, optimizer state and KV caches are outside it: the full plan
 * is {@link MemoryReport}.
 *
 * @param base the parameter blob
 * @param adapters all adapter sets' blobs together
 * @param arena the activation arena's capacity (0 before {@link LlavaModel#plan})
 * @param workspace any other scratch the model keeps
 * @param total the sum: what {@link org.factrl.engine.Device#bytesInUse()} grows by for the native model (no heads)
 */
public record MemoryPlan(long base, long adapters, long arena, long workspace, long total) {}
