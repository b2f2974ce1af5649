package org.factrl.ppo;

/** A prompt and the response sampled for it (EOS included when {@code endedWithEos}). */
public record Rollout(PpoPrompt prompt, int[] response, boolean endedWithEos) {}
