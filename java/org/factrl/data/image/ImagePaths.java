package org.factrl.data.image;

import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import org.factrl.engine.FactRlException;

/**
 * Turns an image path read from a data file (a record's {@code image} field) or typed by a user into
 * a {@link Path}, as a field check: a null, empty, NUL-containing or otherwise unusable path is a
 * {@link FactRlException} naming where it came from, not an {@link InvalidPathException} escaping
 * from {@link Path#of}. Checking a path says nothing about the file; {@link ImageLoader} checks that.
 */
public final class ImagePaths {
  private ImagePaths() {}

  /**
   * A path given on its own (absolute or relative to the working directory).
   *
   * @param where names the value in errors, e.g. {@code "sft.json: record 3: field 'image'"}
   */
  public static Path of(String value, String where) {
    check(value, where);
    try {
      return Path.of(value);
    } catch (InvalidPathException e) {
      throw invalid(value, where, e.getReason());
    }
  }

  /**
   * A path relative to a data set's image folder {@code root}: it must be relative and stay inside
   * {@code root} after {@code ..} segments are resolved, so a record cannot point the loader at
   * {@code /dev/zero} or at a file outside the data set.
   */
  public static Path resolve(Path root, String value, String where) {
    if (root == null) {
      throw new FactRlException("argument 'root' is null");
    }
    Path relative = of(value, where);
    if (relative.isAbsolute()) {
      throw invalid(value, where, "must be relative to the image folder " + root);
    }
    Path base = root.normalize();
    Path resolved = base.resolve(relative).normalize();
    if (!resolved.startsWith(base) || resolved.equals(base)) {
      throw invalid(value, where, "leaves the image folder " + root);
    }
    return resolved;
  }

  private static void check(String value, String where) {
    if (value == null) {
      throw new FactRlException(where + ": image path is missing (null)");
    }
    if (value.isEmpty()) {
      throw invalid(value, where, "empty");
    }
    for (int i = 0; i < value.length(); i++) {
      char c = value.charAt(i);
      if (c < 0x20 || c == 0x7f) {
        throw invalid(value, where, String.format("contains the control character U+%04X at index %d", (int) c, i));
      }
    }
  }

  private static FactRlException invalid(String value, String where, String reason) {
    return new FactRlException(where + ": invalid image path \"" + printable(value) + "\": " + reason);
  }

  /** The value with control characters escaped, so the message itself stays one clean line. */
  private static String printable(String value) {
    StringBuilder s = new StringBuilder();
    for (int i = 0; i < value.length() && s.length() < 200; i++) {
      char c = value.charAt(i);
      if (c < 0x20 || c == 0x7f || c == '"' || c == '\\') {
        s.append(c == '"' || c == '\\' ? "\\" + c : String.format("\\u%04x", (int) c));
      } else {
        s.append(c);
      }
    }
    return s.length() >= 200 ? s + "…" : s.toString();
  }
}
