package org.factrl.data.dataset;

import com.google.common.collect.ImmutableList;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.factrl.data.format.AtomicFiles;
import org.factrl.engine.FactRlException;

/**
 * The hidden folder beside a target ({@code .NAME.<random>.partial}) where a data set is built and
 * where the previous one waits while the new one is renamed into place. Its first file is a marker
 * naming the process that made it, so a later run can tell a folder left by a run that died (an
 * interrupt, a kill, a full disk) from one a live run is still using, and remove only the former.
 *
 * <pre>
 * .NAME.1a2b3c.partial/
 *   .factrl-staging     "factrl staging folder", pid, process start time   (written first)
 *   dataset/            the data set being built, renamed to NAME when complete
 *   previous/           the data set that was at NAME, deleted once the new one is in place
 * </pre>
 */
final class StagingFolder implements AutoCloseable {
  static final String MARKER = ".factrl-staging";
  private static final String MAGIC = "factrl staging folder";
  private static final String SUFFIX = ".partial";
  /** An unmarked empty folder younger than this may be one a live run has just made. */
  private static final Duration EMPTY_GRACE = Duration.ofHours(1);

  private final Path root;
  private boolean keep;

  private StagingFolder(Path root) {
    this.root = root;
  }

  /** Makes a fresh staging folder beside {@code target} and marks it as this process's. */
  static StagingFolder create(Path target) {
    Path root = AtomicFiles.temporarySibling(target, SUFFIX);
    try {
      Files.createDirectory(root);
    } catch (IOException e) {
      throw new FactRlException(target + ": cannot create the folder to build the data set in (" + root + "): " + e, e);
    }
    StagingFolder s = new StagingFolder(root);
    ProcessHandle self = ProcessHandle.current();
    String marker = MAGIC + "\npid " + self.pid() + "\nstarted "
        + self.info().startInstant().map(Instant::toString).orElse("unknown") + "\n";
    try {
      Files.writeString(root.resolve(MARKER), marker, StandardCharsets.UTF_8, StandardOpenOption.CREATE_NEW);
    } catch (IOException e) {
      s.close();
      throw new FactRlException(root + ": cannot write " + MARKER + ": " + e, e);
    }
    return s;
  }

  Path root() {
    return root;
  }

  /** Where the new data set is built. */
  Path dataSet() {
    return root.resolve("dataset");
  }

  /** Where the data set being replaced waits until the new one is in place. */
  Path previous() {
    return root.resolve("previous");
  }

  /** Keeps the folder on {@link #close} (it holds the only copy of the previous data set). */
  void keep() {
    keep = true;
  }

  /** Deletes the folder and what this run put in it, unless {@link #keep} was called. */
  @Override
  public void close() {
    if (!keep) {
      deleteTree(root);
    }
  }

  /**
   * Removes the staging folders beside {@code target} that runs which have since died left
   * behind, and names those it must leave. Returns one line per folder, for a person.
   *
   * <p>Removed: a marked folder whose process is gone (a data set it had moved aside is put back
   * at {@code target} first when {@code target} is missing); an unmarked empty one older than an
   * hour. Left and named: a marked folder whose process still runs; an unmarked, non-empty one
   * (made by an older FactRL, or not ours at all); {@code .NAME.*.old} folders of older versions.
   */
  static ImmutableList<String> cleanStale(Path target) {
    Path parent = target.getParent();
    if (parent == null || !Files.isDirectory(parent)) {
      return ImmutableList.of();
    }
    Pattern ours = Pattern.compile(Pattern.quote("." + target.getFileName()) + "\\.[0-9a-f]{1,16}\\.(partial|old)");
    List<Path> found = new ArrayList<>();
    try (DirectoryStream<Path> dir = Files.newDirectoryStream(parent,
        p -> ours.matcher(p.getFileName().toString()).matches())) {
      dir.forEach(found::add);
    } catch (IOException e) {
      return ImmutableList.of(parent + ": cannot list to look for folders left by interrupted runs: " + e);
    }
    found.sort(Comparator.naturalOrder());
    ImmutableList.Builder<String> notes = ImmutableList.builder();
    for (Path p : found) {
      String note = cleanOne(p, target);
      if (note != null) {
        notes.add(note);
      }
    }
    return notes.build();
  }

  private static String cleanOne(Path p, Path target) {
    if (!Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS)) {
      return p + ": not a folder; left alone";
    }
    Path marker = p.resolve(MARKER);
    if (!p.getFileName().toString().endsWith(SUFFIX) || !Files.isRegularFile(marker, LinkOption.NOFOLLOW_LINKS)) {
      if (isEmpty(p) && olderThan(p, EMPTY_GRACE)) {
        return delete(p, p + ": removed (an empty folder left by an interrupted run)");
      }
      return p + ": left by an older FactRL or not ours (no " + MARKER + "); not removed — delete it yourself"
          + " if you do not need it";
    }
    Optional<Owner> owner = Owner.read(marker);
    if (owner.isEmpty()) {
      return p + ": its " + MARKER + " is not one this FactRL writes; not removed";
    }
    if (owner.get().alive()) {
      return p + ": in use by running process " + owner.get().pid + "; left alone";
    }
    String restored = "";
    Path previous = p.resolve("previous");
    if (Files.isDirectory(previous, LinkOption.NOFOLLOW_LINKS) && !Files.exists(target, LinkOption.NOFOLLOW_LINKS)) {
      try { // the run died between moving the old data set aside and moving the new one in
        OwnedFolder.verify(previous);
        Files.move(previous, target, StandardCopyOption.ATOMIC_MOVE);
        restored = "; the data set it had moved aside is back at " + target;
      } catch (IOException | FactRlException e) {
        return p + ": left by process " + owner.get().pid + " (gone) and holds the data set that was at " + target
            + ", which could not be put back (" + e.getMessage() + "); not removed";
      }
    }
    return delete(p, p + ": removed (left by process " + owner.get().pid + ", which is gone)" + restored);
  }

  private static String delete(Path p, String done) {
    String failure = deleteTree(p);
    return failure == null ? done : p + ": left by an interrupted run, but could not be removed (" + failure
        + "); delete it yourself";
  }

  /** Deletes {@code root} and everything under it (links themselves, never their targets); null or why not. */
  private static String deleteTree(Path root) {
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

  private static boolean isEmpty(Path dir) {
    try (Stream<Path> s = Files.list(dir)) {
      return s.findAny().isEmpty();
    } catch (IOException e) {
      return false;
    }
  }

  private static boolean olderThan(Path p, Duration age) {
    try {
      return Files.getLastModifiedTime(p, LinkOption.NOFOLLOW_LINKS).toInstant().isBefore(Instant.now().minus(age));
    } catch (IOException e) {
      return false;
    }
  }

  /** The process a marker names. */
  private record Owner(long pid, Optional<Instant> started) {
    private static final Pattern TEXT = Pattern.compile(Pattern.quote(MAGIC) + "\npid (\\d{1,18})\nstarted (\\S+)\n");

    static Optional<Owner> read(Path marker) {
      try {
        if (Files.size(marker) > 4096) {
          return Optional.empty();
        }
        Matcher m = TEXT.matcher(Files.readString(marker, StandardCharsets.UTF_8));
        if (!m.matches()) {
          return Optional.empty();
        }
        Optional<Instant> started = m.group(2).equals("unknown") ? Optional.empty() : Optional.of(Instant.parse(m.group(2)));
        return Optional.of(new Owner(Long.parseLong(m.group(1)), started));
      } catch (IOException | DateTimeParseException e) {
        return Optional.empty();
      }
    }

    /** Whether the process still runs: its pid exists and (when known) started when the marker says. */
    boolean alive() {
      Optional<ProcessHandle> h = ProcessHandle.of(pid);
      if (h.isEmpty() || !h.get().isAlive()) {
        return false;
      }
      Optional<Instant> actual = h.get().info().startInstant();
      return started.isEmpty() || actual.isEmpty()
          || Duration.between(actual.get(), started.get()).abs().compareTo(Duration.ofSeconds(1)) < 0;
    }
  }
}
