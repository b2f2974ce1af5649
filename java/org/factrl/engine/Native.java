package org.factrl.engine;

import org.factrl.bindings.FactRlCore;
import org.factrl.bindings.FactRlCore.frl_tensor;

/**
 * Turns native statuses into {@link FactRlException}s. For the kernel wrappers in other packages;
 * not an API for users.
 */
public final class Native {
  private Native() {}

  /** Throws if {@code status} is not {@code FRL_OK}, with the engine's message for this thread. */
  public static void check(int status) {
    if (status != FactRlCore.FRL_OK) {
      String message = FactRlCore.frl_last_error().getString();
      throw new FactRlException(FactRlException.Status.fromCode(status),
          message.isEmpty() ? "native call failed with status " + status : message);
    }
  }

  /** Throws a {@link FactRlException} naming {@code argument} unless {@code ok}. */
  public static void checkArgument(boolean ok, String argument, String problem, Object... args) {
    if (!ok) {
      throw new FactRlException(FactRlException.Status.ARGUMENT,
          "argument '" + argument + "': " + String.format(problem, args));
    }
  }

  /** Throws a {@link FactRlException} naming {@code argument} when it is null; returns it otherwise. */
  public static <T> T checkNotNull(T value, String argument) {
    if (value == null) {
      throw new FactRlException(FactRlException.Status.ARGUMENT, "argument '" + argument + "' is null");
    }
    return value;
  }

  /**
   * The native handle of a required tensor argument: null or closed is an error naming
   * {@code argument}.
   */
  public static frl_tensor handle(Tensor t, String argument) {
    return checkNotNull(t, argument).handle(argument);
  }

  /** The native handle of an optional tensor argument (null stays null); closed names {@code argument}. */
  public static frl_tensor handleOrNull(Tensor t, String argument) {
    return t == null ? null : t.handle(argument);
  }
}
