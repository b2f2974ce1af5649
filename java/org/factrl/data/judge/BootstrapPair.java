package org.factrl.data.judge;

import com.google.common.base.Preconditions;
import java.util.Optional;
import org.factrl.data.shapes.Scene;

/**
 * A bootstrap preference pair for one scene: the {@code better} text wins over the {@code worse}
 * one. For a corruption the worse text holds one false claim ({@code falseClaim}); for {@link
 * Corruption#OMISSION} both are correct and the better one says more. The two are presented as
 * responses A and B in an order drawn from the seed; {@code preferred} is the index (0 = A) of the
 * better one.
 */
public record BootstrapPair(Scene scene, String better, String worse, Corruption corruption,
    Optional<Claim> falseClaim, int preferred) {
  public BootstrapPair {
    Preconditions.checkNotNull(scene, "scene");
    Preconditions.checkNotNull(better, "better");
    Preconditions.checkNotNull(worse, "worse");
    Preconditions.checkNotNull(corruption, "corruption");
    Preconditions.checkNotNull(falseClaim, "falseClaim");
    Preconditions.checkArgument(falseClaim.isEmpty() == (corruption == Corruption.OMISSION),
        "a false claim exactly when the pair is a corruption, got %s for %s", falseClaim, corruption);
    Preconditions.checkArgument(preferred == 0 || preferred == 1, "preferred must be 0 or 1");
  }

  public String responseA() {
    return preferred == 0 ? better : worse;
  }

  public String responseB() {
    return preferred == 0 ? worse : better;
  }
}
