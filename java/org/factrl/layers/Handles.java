package org.factrl.layers;

import org.factrl.bindings.FactRlCore.frl_tensor;
import org.factrl.engine.Native;
import org.factrl.engine.Tensor;

/** Native handles of the layers' tensor arguments: null (when required) or closed is an error naming them. */
final class Handles {
  private Handles() {}

  static frl_tensor required(Tensor t, String name) {
    return Native.handle(t, name);
  }

  static frl_tensor optional(Tensor t, String name) {
    return Native.handleOrNull(t, name);
  }
}
