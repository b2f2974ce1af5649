package org.factrl.eval;

import com.google.common.base.Preconditions;
import com.google.common.collect.ImmutableMap;
import com.google.common.collect.ImmutableSet;
import com.google.gson.JsonElement;
import com.google.gson.JsonParser;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.factrl.data.format.AtomicFiles;
import org.factrl.engine.FactRlException;

/**
 * An output folder that holds exactly one command's result files, with the rules of {@code
 * bin/factrl judge}: the folder must not exist, be empty, or hold exactly the files an earlier run
 * of the same kind wrote (its marker file carrying the format marker) — anything else is refused
 * with the first foreign file named, so a user's folder is never written into or replaced. The
 * files are written in a hidden sibling folder and renamed into place: the folder never holds half
 * a result, and an earlier result is replaced only once the new one is complete.
 */
public final class ResultFolder {
  private final Path out;
  private final ImmutableSet<String> files;
  private final String markerFile;
  private final String format;
  private final String kind;

  /**
   * @param files the names of every file a run writes
   * @param markerFile the one of them (a JSON object) whose {@code "format"} is {@code format}
   * @param kind what writes it, for messages ("eval")
   */
  public ResultFolder(Path out, ImmutableSet<String> files, String markerFile, String format, String kind) {
    this.out = Preconditions.checkNotNull(out, "out").toAbsolutePath().normalize();
    this.files = Preconditions.checkNotNull(files, "files");
    Preconditions.checkArgument(files.contains(markerFile), "markerFile %s is not among the files", markerFile);
    this.markerFile = markerFile;
    this.format = Preconditions.checkNotNull(format, "format");
    this.kind = Preconditions.checkNotNull(kind, "kind");
  }

  public Path path() {
    return out;
  }

  /** Refuses a folder holding anything but an earlier run's own files; call before the work starts. */
  public void check() {
    if (Files.isSymbolicLink(out)) {
      throw new FactRlException(out + ": is a symbolic link; give a real folder for the output");
    }
    if (!Files.exists(out, LinkOption.NOFOLLOW_LINKS)) {
      return;
    }
    if (!Files.isDirectory(out, LinkOption.NOFOLLOW_LINKS)) {
      throw new FactRlException(out + ": exists and is not a folder; refusing to replace it");
    }
    List<Path> entries;
    try (Stream<Path> s = Files.list(out)) {
      entries = s.sorted().toList();
    } catch (IOException e) {
      throw new FactRlException(out + ": cannot list: " + e, e);
    }
    if (entries.isEmpty()) {
      return;
    }
    for (Path p : entries) {
      String name = p.getFileName().toString();
      if (!files.contains(name) || !Files.isRegularFile(p, LinkOption.NOFOLLOW_LINKS)) {
        throw new FactRlException(out + ": holds " + name + ", which an earlier " + kind + " run did not"
            + " write; refusing to replace the folder (give an empty or new output folder)");
      }
    }
    if (entries.size() != files.size() || !isOwn(out.resolve(markerFile))) {
      throw new FactRlException(out + ": is not the output of an earlier " + kind + " run (its " + markerFile
          + " lacks the format marker or a file is missing); refusing to replace it");
    }
  }

  private boolean isOwn(Path marker) {
    try {
      JsonElement e = JsonParser.parseString(Files.readString(marker, StandardCharsets.UTF_8));
      return e.isJsonObject() && e.getAsJsonObject().has("format")
          && format.equals(e.getAsJsonObject().get("format").getAsString());
    } catch (IOException | RuntimeException e) {
      return false;
    }
  }

  /** Writes {@code contents} (exactly the declared files) and renames the folder into place. */
  public void publish(Map<String, String> contents) {
    Preconditions.checkArgument(contents.keySet().equals(files), "contents %s != files %s", contents.keySet(), files);
    ImmutableMap<String, String> c = ImmutableMap.copyOf(contents);
    Path tmp = AtomicFiles.temporarySibling(out, ".partial");
    Path old = null;
    try {
      Files.createDirectories(out.getParent());
      Files.createDirectory(tmp);
      for (Map.Entry<String, String> e : c.entrySet()) {
        Files.writeString(tmp.resolve(e.getKey()), e.getValue(), StandardCharsets.UTF_8);
      }
      check(); // unchanged since the start: still absent, empty or our own
      if (Files.exists(out, LinkOption.NOFOLLOW_LINKS)) {
        old = AtomicFiles.temporarySibling(out, ".old");
        Files.move(out, old, StandardCopyOption.ATOMIC_MOVE);
      }
      Files.move(tmp, out, StandardCopyOption.ATOMIC_MOVE);
      tmp = null;
      if (old != null) {
        for (String name : files) { // only the files check() accepted, then the empty folder
          Files.deleteIfExists(old.resolve(name));
        }
        Files.delete(old);
        old = null;
      }
    } catch (IOException e) {
      if (old != null && !Files.exists(out, LinkOption.NOFOLLOW_LINKS)) {
        try {
          Files.move(old, out, StandardCopyOption.ATOMIC_MOVE); // put the old result back
        } catch (IOException ignored) {
          // the old result stays at 'old'; the message names the output folder
        }
      }
      throw new FactRlException(out + ": cannot write the " + kind + " output: " + e, e);
    } finally {
      if (tmp != null) {
        try {
          for (String name : files) {
            Files.deleteIfExists(tmp.resolve(name));
          }
          Files.deleteIfExists(tmp);
        } catch (IOException ignored) {
          // a leftover hidden .partial folder is harmless and named by its random suffix
        }
      }
    }
  }
}
