package org.factrl.data.format;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.security.SecureRandom;
import org.factrl.engine.FactRlException;

/**
 * Writes files so that readers never see half a file: the text goes to a temporary file in the
 * same folder (same file system, so the rename is atomic), which is then moved over the target.
 */
public final class AtomicFiles {
  private static final SecureRandom RANDOM = new SecureRandom();

  private AtomicFiles() {}

  /**
   * A fresh hidden name next to {@code file} (".name.1234abcd.suffix"). Unlike {@code
   * Files.createTempFile}, nothing is created, so what the caller makes gets the usual permissions
   * of the umask, not owner-only.
   */
  public static Path temporarySibling(Path file, String suffix) {
    Path absolute = file.toAbsolutePath();
    return absolute.resolveSibling("." + absolute.getFileName() + "."
        + Long.toHexString(RANDOM.nextLong()) + suffix);
  }

  /** Writes {@code text} as UTF-8 to {@code file}, creating missing parent folders. */
  public static void writeString(Path file, String text) {
    Path absolute = file.toAbsolutePath();
    Path dir = absolute.getParent();
    Path tmp = null;
    try {
      Files.createDirectories(dir);
      tmp = temporarySibling(absolute, ".tmp");
      Files.writeString(tmp, text, StandardCharsets.UTF_8, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
      Files.move(tmp, absolute, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
      tmp = null;
    } catch (IOException e) {
      throw new FactRlException(file + ": cannot write: " + e, e);
    } finally {
      if (tmp != null) {
        try {
          Files.deleteIfExists(tmp);
        } catch (IOException ignored) {
          // the write already failed; that error is the one worth reporting
        }
      }
    }
  }
}
