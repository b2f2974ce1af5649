package org.factrl.data.dataset;

import com.google.common.base.Preconditions;
import com.google.common.collect.ImmutableList;
import com.google.common.collect.ImmutableMap;
import com.google.common.collect.ImmutableSet;
import com.google.common.hash.Hashing;
import com.google.common.io.MoreFiles;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonPrimitive;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryNotEmptyException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.factrl.data.format.JsonRecords;
import org.factrl.engine.FactRlException;

/**
 * Proof that a folder holds one FactRL data set and nothing else, so that replacing it loses
 * nothing of the user's. {@link #verify} accepts a folder only when its manifest carries the format
 * marker ({@code "format": "factrl-shapes-dataset", "format_version"} from {@value #FIRST_LISTING_VERSION} to
 * {@value #FORMAT_VERSION}) and every entry under it
 * is the manifest, the file list ({@code SHA256SUMS}, whose own SHA-256 the manifest records), a
 * listed file whose SHA-256 matches the list, or a folder holding such files. Anything else — a
 * foreign or edited file, a link, a data set of a format whose files cannot be checked — means the
 * folder is not (only) ours: {@link #verify} throws a {@link FactRlException} naming the folder and
 * the first such entry. Listed files that are missing are allowed (deleting fewer of our own files
 * loses nothing); {@link #complete} says whether all are there.
 *
 * <p>{@link #deleteOwnFiles} then deletes exactly the proven files and the folders they emptied, never
 * a whole tree, so a file that appears between the check and the delete survives.
 */
public final class OwnedFolder {
  /** The manifest's {@code format} marker. */
  public static final String FORMAT = "factrl-shapes-dataset";
  /**
   * The manifest's {@code format_version} this FactRL writes. 2 is the first that lists every
   * file; 3 (issue 12) adds facts to preference records ({@code captions}), SFT open questions of
   * every MMHal type and POPE-style probes, length-balanced bootstrap pairs with omission pairs, and
   * the {@code pretrain.json} caption corpus.
   */
  public static final int FORMAT_VERSION = 3;
  /**
   * The oldest version whose folders can be proven ours (they list every file), so replaced with
   * {@code --overwrite}; only {@link #FORMAT_VERSION} is ever reused as a finished data set.
   */
  public static final int FIRST_LISTING_VERSION = 2;
  /** The file list, in {@code sha256sum} format ({@code sha256sum -c SHA256SUMS} checks it). */
  public static final String FILE_LIST = "SHA256SUMS";
  static final String MANIFEST = "manifest.json";
  /** Ours are a few KB; a bigger "manifest" is someone else's file and is not read whole. */
  private static final long MAX_MANIFEST_BYTES = 1 << 20;
  private static final Pattern SUM_LINE = Pattern.compile("([0-9a-f]{64})  ([^\\\\\\n]+)");

  private final Path root;
  private final ImmutableList<Path> files; // present, proven ours (manifest and list included)
  private final ImmutableList<Path> folders; // present, deepest first, root excluded
  private final boolean complete;

  private OwnedFolder(Path root, ImmutableList<Path> files, ImmutableList<Path> folders, boolean complete) {
    this.root = root;
    this.files = files;
    this.folders = folders;
    this.complete = complete;
  }

  public Path root() {
    return root;
  }

  /** Whether the folder was empty. */
  public boolean isEmpty() {
    return files.isEmpty();
  }

  /** Whether every listed file is present (an empty folder is never complete). */
  public boolean complete() {
    return complete;
  }

  /**
   * Checks that {@code root}, an existing folder (not a link), is empty or holds one FactRL data set
   * and nothing else.
   *
   * @throws FactRlException naming {@code root} and the first entry that is not ours, or the reason
   *     its manifest cannot vouch for it
   */
  public static OwnedFolder verify(Path root) {
    Preconditions.checkNotNull(root, "root");
    if (Files.isSymbolicLink(root) || !Files.isDirectory(root, LinkOption.NOFOLLOW_LINKS)) {
      throw notOurs(root, "is not a folder (or is a symbolic link)");
    }
    // the top level first: a big folder that is plainly not a data set is refused without a walk
    List<String> top;
    try (Stream<Path> list = Files.list(root)) {
      top = list.map(p -> p.getFileName().toString()).sorted().toList();
    } catch (IOException e) {
      throw new FactRlException(root + ": cannot list: " + e, e);
    }
    if (top.isEmpty()) {
      return new OwnedFolder(root, ImmutableList.of(), ImmutableList.of(), false);
    }
    Path manifest = root.resolve(MANIFEST);
    if (!Files.isRegularFile(manifest, LinkOption.NOFOLLOW_LINKS)) {
      throw notOurs(root, "has no " + MANIFEST + "; first entry: " + top.get(0));
    }
    String listSha = checkManifest(root, manifest);
    Path list = root.resolve(FILE_LIST);
    if (!Files.isRegularFile(list, LinkOption.NOFOLLOW_LINKS)) {
      throw notOurs(root, "its manifest lists its files in " + FILE_LIST + ", which is missing");
    }
    if (!sha256(list).equals(listSha)) {
      throw notOurs(root, FILE_LIST + " is not the one its manifest records (changed by hand?)");
    }
    Map<String, String> listed = readList(root, list);
    Set<String> listedFolders = new HashSet<>();
    for (String name : listed.keySet()) {
      for (int slash = name.indexOf('/'); slash >= 0; slash = name.indexOf('/', slash + 1)) {
        listedFolders.add(name.substring(0, slash));
      }
    }
    // names first (cheap, and the first foreign name is what a person needs), then contents
    List<Path> entries = entries(root);
    List<Path> toHash = new ArrayList<>();
    List<Path> ownFolders = new ArrayList<>();
    for (Path p : entries) {
      String name = name(root, p);
      BasicFileAttributes a = attributes(p);
      if (a.isDirectory() && listedFolders.contains(name)) {
        ownFolders.add(p);
      } else if (a.isRegularFile() && (name.equals(MANIFEST) || name.equals(FILE_LIST))) {
        continue;
      } else if (a.isRegularFile() && listed.containsKey(name)) {
        toHash.add(p);
      } else {
        throw notOurs(root, "holds " + name + ", which is not one of the data set's files");
      }
    }
    for (Path p : toHash) {
      if (!sha256(p).equals(listed.get(name(root, p)))) {
        throw notOurs(root, "its file " + name(root, p) + " differs from the one the data set wrote (edited?)");
      }
    }
    ImmutableList<Path> files = ImmutableList.<Path>builder().addAll(toHash).add(list).add(manifest).build();
    ownFolders.sort(Comparator.comparingInt(Path::getNameCount).reversed());
    return new OwnedFolder(root, files, ImmutableList.copyOf(ownFolders), toHash.size() == listed.size());
  }

  /** Returns the SHA-256 of the file list the manifest vouches for; throws when it is not our manifest. */
  private static String checkManifest(Path root, Path manifest) {
    long bytes;
    try {
      bytes = Files.size(manifest);
    } catch (IOException e) {
      throw new FactRlException(manifest + ": cannot read: " + e, e);
    }
    if (bytes > MAX_MANIFEST_BYTES) {
      throw notOurs(root, "its " + MANIFEST + " (" + bytes + " bytes) is not a FactRL manifest");
    }
    JsonElement doc;
    try {
      doc = JsonRecords.readDocument(manifest);
    } catch (FactRlException e) {
      String why = e.getMessage().lines().findFirst().orElse("").replace(manifest + ": ", "");
      throw notOurs(root, "its " + MANIFEST + " is not a FactRL manifest (" + why + ")");
    }
    JsonObject m = doc.isJsonObject() ? doc.getAsJsonObject() : new JsonObject();
    String format = string(m, "format");
    if (format != null && format.startsWith(FORMAT + "/")) {
      throw notOurs(root, "holds a data set of an older format (" + format + ") whose manifest does not list"
          + " its files, so it cannot be checked; remove it yourself if you no longer need it");
    }
    if (!FORMAT.equals(format)) {
      throw notOurs(root, "its " + MANIFEST + " has no \"format\": \"" + FORMAT + "\"");
    }
    JsonElement version = m.get("format_version");
    if (version == null || !version.isJsonPrimitive() || !version.getAsJsonPrimitive().isNumber()
        || version.getAsDouble() != Math.rint(version.getAsDouble())
        || version.getAsDouble() < FIRST_LISTING_VERSION || version.getAsDouble() > FORMAT_VERSION) {
      throw notOurs(root, "its " + MANIFEST + " has format_version " + version + ", this FactRL knows "
          + FIRST_LISTING_VERSION + " to " + FORMAT_VERSION + " only");
    }
    JsonElement contents = m.get("contents");
    String list = contents != null && contents.isJsonObject() ? string(contents.getAsJsonObject(), "list") : null;
    String sha = contents != null && contents.isJsonObject() ? string(contents.getAsJsonObject(), "sha256") : null;
    if (!FILE_LIST.equals(list) || sha == null) {
      throw notOurs(root, "its " + MANIFEST + " does not name its file list (contents.list, contents.sha256)");
    }
    return sha;
  }

  private static String string(JsonObject o, String key) {
    JsonElement e = o.get(key);
    return e != null && e.isJsonPrimitive() && ((JsonPrimitive) e).isString() ? e.getAsString() : null;
  }

  /** The list's file name → SHA-256; a malformed line means the list is not ours. */
  private static Map<String, String> readList(Path root, Path list) {
    List<String> lines;
    try {
      lines = Files.readAllLines(list, StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw notOurs(root, FILE_LIST + " cannot be read as text: " + e);
    }
    Map<String, String> listed = new LinkedHashMap<>();
    for (int i = 0; i < lines.size(); i++) {
      var m = SUM_LINE.matcher(lines.get(i));
      if (!m.matches() || !isPlainRelative(m.group(2)) || listed.put(m.group(2), m.group(1)) != null) {
        throw notOurs(root, FILE_LIST + " line " + (i + 1) + " is not a line this writer makes");
      }
    }
    return listed;
  }

  /** A name the writer could have listed: relative, '/'-separated, no "." or ".." parts. */
  private static boolean isPlainRelative(String name) {
    if (name.equals(MANIFEST) || name.equals(FILE_LIST)) {
      return false;
    }
    for (String part : name.split("/", -1)) {
      if (part.isEmpty() || part.equals(".") || part.equals("..")) {
        return false;
      }
    }
    return true;
  }

  /**
   * Deletes the proven files, then the folders they leave empty, then the root. Anything that
   * appeared since {@link #verify} is left with its folders; returns what was left (empty when
   * everything went).
   */
  public ImmutableList<Path> deleteOwnFiles() {
    ImmutableList.Builder<Path> left = ImmutableList.builder();
    for (Path f : files) {
      try {
        Files.deleteIfExists(f);
      } catch (IOException e) {
        left.add(f);
      }
    }
    for (Path d : ImmutableList.<Path>builder().addAll(folders).add(root).build()) {
      try {
        Files.deleteIfExists(d);
      } catch (DirectoryNotEmptyException e) {
        left.add(d);
      } catch (IOException e) {
        left.add(d);
      }
    }
    return left.build();
  }

  /** Writes {@code root}'s file list (every file under it, sorted) and returns its SHA-256. */
  static String writeFileList(Path root) {
    StringBuilder text = new StringBuilder();
    List<Path> entries = entries(root);
    ImmutableMap<Path, String> sums = entries.parallelStream()
        .filter(p -> Files.isRegularFile(p, LinkOption.NOFOLLOW_LINKS))
        .collect(ImmutableMap.toImmutableMap(p -> p, OwnedFolder::sha256));
    for (Path p : entries) {
      String name = name(root, p);
      Preconditions.checkState(!ImmutableSet.of(MANIFEST, FILE_LIST).contains(name), "%s already in %s", name, root);
      if (sums.containsKey(p)) {
        text.append(sums.get(p)).append("  ").append(name).append('\n');
      }
    }
    Path list = root.resolve(FILE_LIST);
    try {
      Files.writeString(list, text, StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new FactRlException(list + ": cannot write: " + e, e);
    }
    return sha256(list);
  }

  /** Every entry under {@code root} (not following links), sorted by relative name; root excluded. */
  private static List<Path> entries(Path root) {
    try (Stream<Path> walk = Files.walk(root)) {
      return walk.filter(p -> !p.equals(root)).sorted(Comparator.comparing(p -> name(root, p))).toList();
    } catch (IOException | java.io.UncheckedIOException e) {
      throw new FactRlException(root + ": cannot list: " + e, e);
    }
  }

  private static BasicFileAttributes attributes(Path p) {
    try {
      return Files.readAttributes(p, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
    } catch (NoSuchFileException e) {
      throw new FactRlException(p + ": vanished while being checked", e);
    } catch (IOException e) {
      throw new FactRlException(p + ": cannot read: " + e, e);
    }
  }

  static String sha256(Path file) {
    try {
      return MoreFiles.asByteSource(file).hash(Hashing.sha256()).toString();
    } catch (IOException e) {
      throw new FactRlException(file + ": cannot read: " + e, e);
    }
  }

  /** {@code p} relative to {@code root}, with '/' whatever the platform. */
  private static String name(Path root, Path p) {
    return root.relativize(p).toString().replace(p.getFileSystem().getSeparator(), "/");
  }

  private static FactRlException notOurs(Path root, String why) {
    return new FactRlException(root + ": not replaced: not (only) a FactRL data set: " + why);
  }
}
