/**
 * FactRL embedded in a Java program: a thin facade over the engine's classes.
 *
 * <ul>
 *   <li>{@link org.factrl.api.FactRl#loadModel} → {@link org.factrl.api.Model}: {@code generate(image, prompt)}
 *       returns the answer's text, token ids and per-token log-probs ({@link org.factrl.api.Generation});
 *   <li>{@link org.factrl.api.RewardModel#load} → {@code score(image, prompt, response, facts)};
 *   <li>{@link org.factrl.api.Metrics#read} reads any stage's {@code metrics.jsonl} (and draws its plots);
 *   <li>stages run from code through their own public entry points, each taking an immutable config
 *       built with a builder: {@code SftStage.run(SftConfig, data, BaseModel, out, Options)},
 *       {@code RmStage.run(RmConfig, data, sft, out, Options)}, {@code PpoStage.run(PpoConfig, data, sft,
 *       rm, out, progress, stopAfterStep)}, {@code EvalStage.run(...)} (README, "Java embedding API").
 * </ul>
 *
 * Handles own native memory: close them (try-with-resources). None is thread-safe.
 */
package org.factrl.api;
