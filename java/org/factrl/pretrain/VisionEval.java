package org.factrl.pretrain;

/**
 * One held-out evaluation of the vision heads (eval-split scenes).
 *
 * @param step the optimizer steps taken before it
 * @param scenes the scenes evaluated
 * @param shapeAccuracy per-patch accuracy of the shape head (7 classes: none + 6 shapes)
 * @param colourAccuracy per-patch accuracy of the colour head (none + 6 colours)
 * @param sizeAccuracy per-patch accuracy of the size head (none + small, large)
 * @param environmentAccuracy per-image accuracy of the environment head (5 classes)
 * @param objectPatchShapeAccuracy shape accuracy over the patches an object owns only (the
 *     majority "none" patches excluded: what tells whether shapes are seen)
 * @param objectPatchColourAccuracy colour accuracy over the object-owned patches only
 * @param presenceExact share of images whose predicted set of (shape, colour) pairs — the pairs
 *     of the patches predicted as neither shape nor colour "none" — equals the scene's set exactly
 * @param presencePairAccuracy share of the 36 (shape, colour) pair decisions per image that are right
 * @param shapeMajority per-patch accuracy of always predicting the eval set's most common shape class
 * @param colourMajority the same for colour
 * @param sizeMajority the same for size
 * @param environmentMajority per-image accuracy of always predicting the most common environment
 */
public record VisionEval(int step, int scenes, double shapeAccuracy, double colourAccuracy, double sizeAccuracy,
    double environmentAccuracy, double objectPatchShapeAccuracy, double objectPatchColourAccuracy,
    double presenceExact, double presencePairAccuracy, double shapeMajority, double colourMajority,
    double sizeMajority, double environmentMajority) {

  /** One line for progress output. */
  public String summary() {
    return String.format(java.util.Locale.ROOT,
        "eval step %d (%d scenes): patch acc shape %.3f colour %.3f size %.3f (majority %.3f %.3f %.3f); "
            + "object patches shape %.3f colour %.3f; environment %.3f (majority %.3f); presence exact %.3f pairs %.3f",
        step, scenes, shapeAccuracy, colourAccuracy, sizeAccuracy, shapeMajority, colourMajority, sizeMajority,
        objectPatchShapeAccuracy, objectPatchColourAccuracy, environmentAccuracy, environmentMajority, presenceExact,
        presencePairAccuracy);
  }
}
