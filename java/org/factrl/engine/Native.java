package org.factrl.engine;

import org.factrl.bindings.FactRlCore;

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
}
