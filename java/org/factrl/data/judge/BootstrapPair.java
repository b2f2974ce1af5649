package org.factrl.data.judge;

import com.google.common.base.Preconditions;
import org.factrl.data.shapes.Scene;

/**
 * A bootstrap preference pair for one scene: a correct description and a corrupted copy with one
 * false claim ({@code falseClaim}, made by {@code corruption}). The two are presented as responses
 * A and B in an order drawn from the seed; {@code preferred} is the index (0 = A) of the correct one.
 */
public record BootstrapPair(Scene scene, String correct, String corrupted, Corruption corruption,
    Claim falseClaim, int preferred) {
  public BootstrapPair {
    Preconditions.checkNotNull(scene, "scene");
    Preconditions.checkNotNull(correct, "correct");
    Preconditions.checkNotNull(corrupted, "corrupted");
    Preconditions.checkNotNull(corruption, "corruption");
    Preconditions.checkNotNull(falseClaim, "falseClaim");
    Preconditions.checkArgument(preferred == 0 || preferred == 1, "preferred must be 0 or 1");
  }

  public String responseA() {
    return preferred == 0 ? correct : corrupted;
  }

  public String responseB() {
    return preferred == 0 ? corrupted : correct;
  }
}
