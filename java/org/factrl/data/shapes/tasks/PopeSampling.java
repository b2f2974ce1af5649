package org.factrl.data.shapes.tasks;

/**
 * How POPE picks the absent objects it asks about (the "no" probes). Objects are {@link
 * org.factrl.data.shapes.ObjectKind}s: "colour shape".
 *
 * <ul>
 *   <li>{@link #RANDOM}: absent kinds drawn uniformly.
 *   <li>{@link #POPULAR}: the absent kinds present in the most scenes of the data set (an {@link
 *       ObjectStatistics} table); ties by canonical kind order.
 *   <li>{@link #ADVERSARIAL}: the most confusable absent kinds. Ranked by, in order: (1) whether a
 *       present object has the same shape (the same shape in an absent colour, an attribute-binding
 *       trap: "red circle" present makes "blue circle" adversarial); (2) how many scenes of the data
 *       set hold the kind together with the present kinds (POPE's co-occurrence), summed over the
 *       present kinds; (3) canonical kind order.
 * </ul>
 */
public enum PopeSampling { RANDOM, POPULAR, ADVERSARIAL }
