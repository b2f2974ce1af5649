package org.factrl.layers;

import org.factrl.bindings.FactRlCore.frl_tensor;
import org.factrl.engine.Native;
import org.factrl.engine.Tensor;

/** Native handles of the layers' tensor arguments: required ones checked for null by name. */
final class Handles {
  private Handles() {}

  static frl_tensor required(Tensor t, String name) {
    return Native.checkNotNull(t, name).handle();
  }

  static frl_tensor optional(Tensor t) {
    return t == null ? null : t.handle();
  }
}
