package org.factrl.model.io;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import org.factrl.data.format.AtomicFiles;
import org.factrl.engine.FactRlException;

/**
 * Writes a file so that nobody ever sees half of it and nothing is replaced unasked: the bytes go
 * to a hidden temporary file in the same folder and are forced to disk, then the file appears under
 * its name in one step — a hard link, which fails if the name exists, or (with
 * {@link IfExists#REPLACE}) an atomic rename over the old file — and the folder is synced.
 */
public final class AtomicWrite {
  /** Writes the whole content to a fresh channel. */
  interface Body {
    void writeTo(FileChannel ch) throws IOException;
  }

  private AtomicWrite() {}

  /** Writes {@code bytes} as the whole content of {@code file} (config files beside the weights). */
  public static void writeBytes(Path file, IfExists ifExists, byte[] bytes) {
    java.util.Objects.requireNonNull(bytes, "bytes");
    write(file, ifExists, ch -> {
      java.nio.ByteBuffer b = java.nio.ByteBuffer.wrap(bytes);
      while (b.hasRemaining()) {
        ch.write(b);
      }
    });
  }

  static void write(Path file, IfExists ifExists, Body body) {
    Path target = file.toAbsolutePath();
    if (Files.exists(target, LinkOption.NOFOLLOW_LINKS)) {
      if (ifExists == IfExists.FAIL) {
        throw exists(file, null);
      }
      if (!Files.isRegularFile(target, LinkOption.NOFOLLOW_LINKS)) {
        throw new FactRlException(file + ": exists and is not a regular file; not replaced");
      }
    }
    Path tmp = null;
    try {
      Files.createDirectories(target.getParent());
      tmp = AtomicFiles.temporarySibling(target, ".tmp");
      try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
        body.writeTo(ch);
        ch.force(true);
      }
      if (ifExists == IfExists.REPLACE) {
        Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
      } else {
        publishWithoutReplacing(tmp, target, file);
      }
      tmp = null;
      syncFolder(target.getParent());
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

  private static FactRlException exists(Path file, Throwable cause) {
    return new FactRlException(file + ": already exists; not overwritten (ask to replace it explicitly)", cause);
  }

  /** Makes {@code tmp} appear as {@code target} unless something appeared there meanwhile. */
  private static void publishWithoutReplacing(Path tmp, Path target, Path file) throws IOException {
    try {
      Files.createLink(target, tmp); // atomic, and fails if the name exists (a rename would replace it)
    } catch (FileAlreadyExistsException e) {
      throw exists(file, e);
    } catch (UnsupportedOperationException | IOException noHardLinks) {
      if (Files.exists(target, LinkOption.NOFOLLOW_LINKS)) {
        throw exists(file, null);
      }
      Files.move(tmp, target); // no hard links on this file system: a plain rename that refuses to replace
      return;
    }
    Files.delete(tmp);
  }

  /** Makes the new directory entry durable too (best effort: some file systems refuse). */
  private static void syncFolder(Path dir) {
    try (FileChannel d = FileChannel.open(dir, StandardOpenOption.READ)) {
      d.force(true);
    } catch (IOException | UnsupportedOperationException ignored) {
      // the file itself is on disk; only the durability of its name depends on this
    }
  }
}
