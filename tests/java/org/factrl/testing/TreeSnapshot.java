package org.factrl.testing;

import com.google.common.collect.ImmutableSortedMap;
import com.google.common.hash.Hashing;
import com.google.common.io.MoreFiles;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/**
 * Every entry under a folder (links not followed): relative path → "dir", "link → target" or the
 * file's SHA-256. Two snapshots tell exactly what a command added, changed or removed.
 */
public record TreeSnapshot(Path root, ImmutableSortedMap<String, String> entries) {
  public static TreeSnapshot of(Path root) throws IOException {
    ImmutableSortedMap.Builder<String, String> b = ImmutableSortedMap.naturalOrder();
    try (Stream<Path> walk = Files.walk(root)) {
      for (Path p : walk.filter(p -> !p.equals(root)).toList()) {
        String name = root.relativize(p).toString();
        if (Files.isSymbolicLink(p)) {
          b.put(name, "link -> " + Files.readSymbolicLink(p));
        } else if (Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS)) {
          b.put(name, "dir");
        } else {
          b.put(name, MoreFiles.asByteSource(p).hash(Hashing.sha256()).toString());
        }
      }
    }
    return new TreeSnapshot(root, b.build());
  }

  /**
   * What changed from {@code this} to {@code after}, except entries inside folders that did not
   * exist before (those the command created): one line per entry, empty when nothing else changed.
   */
  public List<String> changesOutsideNewFolders(TreeSnapshot after) {
    List<String> changes = new ArrayList<>();
    for (Map.Entry<String, String> e : entries.entrySet()) {
      String now = after.entries.get(e.getKey());
      if (now == null) {
        changes.add("removed " + e.getKey());
      } else if (!now.equals(e.getValue())) {
        changes.add("changed " + e.getKey() + " (" + e.getValue() + " -> " + now + ")");
      }
    }
    for (Map.Entry<String, String> e : after.entries.entrySet()) {
      if (!entries.containsKey(e.getKey()) && !insideNewFolder(e.getKey(), after)) {
        changes.add("added " + e.getKey());
      }
    }
    return changes;
  }

  /** Whether {@code name} is, or lies inside, a folder that is new in {@code after}. */
  private boolean insideNewFolder(String name, TreeSnapshot after) {
    Path p = Path.of(name);
    for (int n = 1; n <= p.getNameCount(); n++) {
      String prefix = p.subpath(0, n).toString();
      if (!entries.containsKey(prefix) && "dir".equals(after.entries.get(prefix))) {
        return true;
      }
    }
    return false;
  }
}
