package org.factrl.train;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.factrl.data.format.AtomicFiles;
import org.factrl.engine.FactRlException;
import org.factrl.model.io.AtomicWrite;
import org.factrl.model.io.IfExists;

/**
 * A folder of checkpoints, each a folder {@code step-00000042/} that appears whole or not at all:
 *
 * <pre>
 * checkpoints/
 *   step-00000010/                     complete: renamed into place after every file was fsynced
 *     ...                              the stage's files (weights, optimizer, trainer state, config)
 *     checkpoint.json                  written last inside: {"format": "factrl.checkpoint.v1", "step": 10}
 *   .step-00000020.1a2b3c.partial/     being written (or left by a run that was killed)
 *     .factrl-checkpoint-partial       "factrl checkpoint", pid, process start (written first)
 * </pre>
 *
 * {@link #write}: a hidden sibling is filled, its files fsynced (each by {@link AtomicWrite}), its
 * marker removed, {@code checkpoint.json} written, then the folder is renamed to its final name and
 * the parent folder fsynced. A kill at any moment leaves either the previous checkpoints alone or
 * the new one complete; readers ({@link #latest}) never look at hidden folders. The next
 * {@link #write} removes partial folders whose marker (or, killed while the marker was being
 * written, its temporary file) names a process that is gone; a folder without either is never deleted.
 */
public final class CheckpointStore {
  public static final String COMPLETE_FILE = "checkpoint.json";
  public static final String FORMAT = "factrl.checkpoint.v1";
  static final String PARTIAL_MARKER = ".factrl-checkpoint-partial";
  private static final String MAGIC = "factrl checkpoint";
  private static final Pattern NAME = Pattern.compile("step-(\\d{8,19})");
  private static final Pattern PARTIAL = Pattern.compile("\\.step-\\d{8,19}\\.[0-9a-f]{1,16}\\.partial");
  /** The marker's temporary name while {@link AtomicWrite} writes it. */
  private static final Pattern MARKER_TEMP =
      Pattern.compile(Pattern.quote("." + PARTIAL_MARKER + ".") + "[0-9a-f]{1,16}\\.tmp");
  private static final Pattern MARKER_TEXT = Pattern.compile(Pattern.quote(MAGIC) + "\npid (\\d{1,18})\nstarted (\\S+)\n");

  /** Fills a checkpoint folder (every file written through an fsyncing writer). */
  @FunctionalInterface
  public interface Contents {
    void writeTo(Path folder);
  }

  private final Path root;

  public CheckpointStore(Path root) {
    this.root = root.toAbsolutePath().normalize();
  }

  public Path root() {
    return root;
  }

  /** The folder name of step {@code step}. */
  public static String folderName(long step) {
    return String.format("step-%08d", step);
  }

  /**
   * Writes the checkpoint of step {@code step} atomically (see the class comment) and returns its
   * folder. Fails, leaving nothing behind, if that step's checkpoint exists.
   */
  public Path write(long step, Contents contents) {
    if (step < 0) {
      throw new FactRlException("checkpoint step must be >= 0, got " + step);
    }
    Path target = root.resolve(folderName(step));
    if (Files.exists(target, LinkOption.NOFOLLOW_LINKS)) {
      throw new FactRlException(target + ": a checkpoint of step " + step + " exists already; not replaced");
    }
    try {
      Files.createDirectories(root);
    } catch (IOException e) {
      throw new FactRlException(root + ": cannot create the checkpoint folder: " + e, e);
    }
    cleanStale();
    Path tmp = AtomicFiles.temporarySibling(target, ".partial");
    boolean done = false;
    try {
      Files.createDirectory(tmp);
      ProcessHandle self = ProcessHandle.current();
      AtomicWrite.writeBytes(tmp.resolve(PARTIAL_MARKER), IfExists.FAIL, (MAGIC + "\npid " + self.pid() + "\nstarted "
          + self.info().startInstant().map(Instant::toString).orElse("unknown") + "\n").getBytes(StandardCharsets.UTF_8));
      contents.writeTo(tmp);
      Files.delete(tmp.resolve(PARTIAL_MARKER));
      AtomicWrite.writeBytes(tmp.resolve(COMPLETE_FILE), IfExists.FAIL,
          ("{\"format\": \"" + FORMAT + "\", \"step\": " + step + "}\n").getBytes(StandardCharsets.UTF_8));
      syncFolder(tmp);
      Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE);
      syncFolder(root);
      done = true;
      return target;
    } catch (IOException e) {
      throw new FactRlException(target + ": cannot write the checkpoint: " + e, e);
    } finally {
      if (!done) {
        deleteTree(tmp);
      }
    }
  }

  /** Complete checkpoints, oldest first: {@code step-N} folders holding {@value #COMPLETE_FILE}. */
  public List<Path> list() {
    if (!Files.isDirectory(root)) {
      return List.of();
    }
    List<Path> out = new ArrayList<>();
    try (DirectoryStream<Path> dir = Files.newDirectoryStream(root)) {
      for (Path p : dir) {
        if (NAME.matcher(p.getFileName().toString()).matches() && Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS)
            && Files.isRegularFile(p.resolve(COMPLETE_FILE), LinkOption.NOFOLLOW_LINKS)) {
          out.add(p);
        }
      }
    } catch (IOException e) {
      throw new FactRlException(root + ": cannot list checkpoints: " + e, e);
    }
    out.sort(Comparator.comparingLong(CheckpointStore::stepOf));
    return out;
  }

  /** The complete checkpoint with the highest step, if any. */
  public Optional<Path> latest() {
    List<Path> all = list();
    return all.isEmpty() ? Optional.empty() : Optional.of(all.get(all.size() - 1));
  }

  /** The step a checkpoint folder's name carries. */
  public static long stepOf(Path checkpoint) {
    Matcher m = NAME.matcher(checkpoint.getFileName().toString());
    if (!m.matches()) {
      throw new FactRlException(checkpoint + ": not a checkpoint folder name (step-NNNNNNNN)");
    }
    return Long.parseLong(m.group(1));
  }

  /**
   * Removes partial checkpoint folders left by processes that are gone; returns one line per folder
   * it found (removed or why not), for a person.
   */
  public List<String> cleanStale() {
    List<String> notes = new ArrayList<>();
    if (!Files.isDirectory(root)) {
      return notes;
    }
    List<Path> found = new ArrayList<>();
    try (DirectoryStream<Path> dir = Files.newDirectoryStream(root,
        p -> PARTIAL.matcher(p.getFileName().toString()).matches())) {
      dir.forEach(found::add);
    } catch (IOException e) {
      notes.add(root + ": cannot list to look for partial checkpoints: " + e);
      return notes;
    }
    for (Path p : found) {
      Path marker = markerOf(p);
      Optional<Long> owner = marker == null ? Optional.empty() : ownerIfGone(marker);
      if (!Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS) || marker == null) {
        notes.add(p + ": no " + PARTIAL_MARKER + "; not ours or not finished being marked, left alone");
      } else if (owner.isEmpty()) {
        notes.add(p + ": in use by a running process (or an unreadable marker); left alone");
      } else {
        String failure = deleteTree(p);
        notes.add(failure == null ? p + ": removed (a partial checkpoint of process " + owner.get() + ", which is gone)"
            : p + ": could not be removed: " + failure);
      }
    }
    return notes;
  }

  /**
   * The partial folder's marker; or, when a kill came while the marker was being written (it is
   * fsynced before its rename, a window of milliseconds), the marker's temporary file
   * ({@link AtomicWrite}'s, the folder's only entry), whose text names the owner just the same
   * once whole. Null when neither: the folder is left alone.
   */
  private static Path markerOf(Path folder) {
    Path marker = folder.resolve(PARTIAL_MARKER);
    if (Files.isRegularFile(marker, LinkOption.NOFOLLOW_LINKS)) {
      return marker;
    }
    try (Stream<Path> s = Files.list(folder)) {
      List<Path> entries = s.limit(2).toList();
      if (entries.size() == 1 && MARKER_TEMP.matcher(entries.get(0).getFileName().toString()).matches()
          && Files.isRegularFile(entries.get(0), LinkOption.NOFOLLOW_LINKS)) {
        return entries.get(0);
      }
    } catch (IOException | UncheckedIOException e) {
      // unreadable: left alone
    }
    return null;
  }

  /** The pid a marker names when that process is gone; empty when alive or unreadable. */
  private static Optional<Long> ownerIfGone(Path marker) {
    try {
      if (!Files.isRegularFile(marker, LinkOption.NOFOLLOW_LINKS) || Files.size(marker) > 4096) {
        return Optional.empty();
      }
      Matcher m = MARKER_TEXT.matcher(Files.readString(marker, StandardCharsets.UTF_8));
      if (!m.matches()) {
        return Optional.empty();
      }
      long pid = Long.parseLong(m.group(1));
      Optional<ProcessHandle> h = ProcessHandle.of(pid);
      if (h.isPresent() && h.get().isAlive()) {
        Optional<Instant> actual = h.get().info().startInstant();
        boolean same = m.group(2).equals("unknown") || actual.isEmpty()
            || Duration.between(actual.get(), Instant.parse(m.group(2))).abs().compareTo(Duration.ofSeconds(1)) < 0;
        if (same) {
          return Optional.empty();
        }
      }
      return Optional.of(pid);
    } catch (IOException | RuntimeException e) {
      return Optional.empty();
    }
  }

  private static void syncFolder(Path dir) {
    try (FileChannel d = FileChannel.open(dir, StandardOpenOption.READ)) {
      d.force(true);
    } catch (IOException | UnsupportedOperationException ignored) {
      // best effort: some file systems refuse to sync a directory
    }
  }

  /** Deletes a tree (links themselves, never their targets); null or why not. */
  static String deleteTree(Path root) {
    if (!Files.exists(root, LinkOption.NOFOLLOW_LINKS)) {
      return null;
    }
    try (Stream<Path> walk = Files.walk(root)) {
      for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) {
        Files.delete(p);
      }
      return null;
    } catch (IOException | UncheckedIOException e) {
      return e.toString();
    }
  }
}
