package org.factrl.data.dataset;

import com.google.common.base.Preconditions;
import com.google.common.collect.ImmutableList;
import com.google.common.collect.ImmutableMap;
import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Consumer;
import java.util.function.IntFunction;
import java.util.stream.IntStream;
import org.factrl.data.PopeSampling;
import org.factrl.data.format.AtomicFiles;
import org.factrl.data.format.JsonRecords;
import org.factrl.data.format.LlavaConversation;
import org.factrl.data.format.LlavaConversationCodec;
import org.factrl.data.format.MmhalCodec;
import org.factrl.data.format.MmhalRecord;
import org.factrl.data.format.PopeCodec;
import org.factrl.data.format.PopeRecord;
import org.factrl.data.format.PreferencePair;
import org.factrl.data.format.PreferencePairCodec;
import org.factrl.data.format.RlPrompt;
import org.factrl.data.format.RlPromptCodec;
import org.factrl.data.format.Turn;
import org.factrl.data.judge.CorruptionBootstrap;
import org.factrl.data.judge.ExactJudge;
import org.factrl.data.shapes.PngWriter;
import org.factrl.data.shapes.Scene;
import org.factrl.data.shapes.SceneGenerator;
import org.factrl.data.shapes.SceneJson;
import org.factrl.data.shapes.tasks.SceneTasks;
import org.factrl.data.shapes.tasks.ShapesDataSet.Split;
import org.factrl.data.shapes.tasks.ShapesDataSet;
import org.factrl.data.shapes.tasks.TaskGenerator;
import org.factrl.data.text.ChatTemplate;
import org.factrl.data.text.GivenTokenizer;
import org.factrl.data.text.ShapesTokenizerWriter;
import org.factrl.engine.FactRlException;

/**
 * Writes a complete shapes-world data set folder ({@link DataSetFiles}): images, annotations, the
 * SFT / reward-model / RL / evaluation files and the tokenizer learnt from their text — or a copy
 * of a given one ({@link Builder#tokenizer}), so the data set fits a model trained on another.
 *
 * <p>Deterministic: the same settings give byte-identical files (no timestamps, fixed record
 * order; work runs in parallel but results are gathered in scene order). All or nothing: the data
 * set is built in a hidden sibling folder ({@link StagingFolder}) and renamed into place only when
 * complete, so a crash or error never leaves a half-written data set under the target name; such
 * folders left by runs that died are removed by the next write to the same target.
 *
 * <p>Never deletes what it did not make: an existing non-empty target is replaced only with {@link
 * Builder#overwrite} and only when {@link OwnedFolder#verify} proves it holds one FactRL data set and
 * nothing else (format marker, every file listed in {@code SHA256SUMS} with a matching SHA-256). The
 * old one is moved aside, checked again there, and deleted file by file only once the new one is in
 * place; if the new one cannot be moved in, the old one is put back.
 */
public final class ShapesDataSetWriter {
  /** The manifest's {@code format} value (with {@link OwnedFolder#FORMAT_VERSION}); see {@link OwnedFolder}. */
  public static final String FORMAT = OwnedFolder.FORMAT;
  /** The most scenes one data set may hold (see {@link Builder#scenes}). */
  public static final int MAX_SCENES = 200_000;

  private final long seed;
  private final int scenes;
  private final int imageSize;
  private final double[] fractions;
  private final boolean overwrite;
  private final boolean curriculum;
  private final Path tokenizer;
  private final Consumer<String> notices;
  private final Consumer<Path> beforeSwap;

  private ShapesDataSetWriter(Builder b) {
    this.seed = b.seed;
    this.scenes = b.scenes;
    this.imageSize = b.imageSize;
    this.fractions = b.fractions.clone();
    this.overwrite = b.overwrite;
    this.curriculum = b.curriculum;
    this.tokenizer = b.tokenizer;
    this.notices = b.notices;
    this.beforeSwap = b.beforeSwap;
  }

  public static Builder builder() {
    return new Builder();
  }

  /**
   * Writes the data set to {@code out}.
   *
   * @throws FactRlException naming the folder when it exists (without overwrite, or when it is
   *     not only a data set: the message names the first foreign file) or when any file cannot be
   *     written
   */
  public DataSetSummary write(Path out) {
    long start = System.nanoTime();
    Path target = out.toAbsolutePath().normalize();
    Preconditions.checkArgument(target.getParent() != null, "cannot write a data set at the root %s", target);
    StagingFolder.cleanStale(target).forEach(notices);
    checkTarget(target);
    if (tokenizer != null) {
      GivenTokenizer.check(tokenizer, List.of()); // the cheap part first: fail before generating anything
    }
    try {
      Files.createDirectories(target.getParent());
    } catch (IOException e) {
      throw new FactRlException(target.getParent() + ": cannot create: " + e, e);
    }
    try (StagingFolder staging = StagingFolder.create(target)) {
      Path fresh = staging.dataSet();
      try {
        Files.createDirectory(fresh);
      } catch (IOException e) {
        throw new FactRlException(fresh + ": cannot create: " + e, e);
      }
      Built built = build(DataSetFiles.in(fresh));
      beforeSwap.accept(fresh);
      moveIntoPlace(staging, fresh, target);
      double seconds = (System.nanoTime() - start) / 1e9;
      return new DataSetSummary(target, scenes, built.splitScenes, built.records, built.contents, built.rejectedPairs,
          seconds);
    }
  }

  private record Built(ImmutableMap<String, Integer> splitScenes, ImmutableMap<String, Integer> records,
      ImmutableMap<String, Integer> contents, int rejectedPairs) {}

  /** Every record of the data set, in file order. */
  private record Records(List<LlavaConversation> pretrain, List<LlavaConversation> sft,
      List<PreferencePair> preferences, int rejectedPairs,
      List<RlPrompt> rl, List<MmhalRecord> mmhal, Map<PopeSampling, List<PopeRecord>> pope) {}

  private Built build(DataSetFiles files) {
    ShapesDataSet data = ShapesDataSet.builder()
        .sceneGenerator(SceneGenerator.builder().seed(seed).imageSize(imageSize).build())
        .taskGenerator(TaskGenerator.withSeed(seed))
        .scenes(scenes)
        .fractions(fractions[0], fractions[1], fractions[2], fractions[3])
        .build();
    ImmutableList<SceneTasks> tasks = inOrder(data.size(), data::tasks);
    writeImages(data, files);
    SceneJson.writeList(files.annotations(), data.scenes());
    Records r = records(data, tasks);

    LlavaConversationCodec.write(files.pretrain(), r.pretrain());
    LlavaConversationCodec.write(files.sft(), r.sft());
    PreferencePairCodec.write(files.preferences(), r.preferences());
    RlPromptCodec.write(files.rlPrompts(), r.rl());
    MmhalCodec.write(files.mmhal(), r.mmhal());
    for (PopeSampling p : PopeSampling.values()) {
      PopeCodec.write(files.pope(p), r.pope().get(p));
    }
    if (tokenizer == null) {
      ShapesTokenizerWriter.write(files.tokenizer(), corpus(tasks, r));
    } else {
      List<String> corpus = corpus(tasks, r);
      GivenTokenizer.check(tokenizer, corpus);
      try { // a byte copy; the staging folder makes the whole data set appear at once
        Files.copy(tokenizer, files.tokenizer());
      } catch (IOException e) {
        throw new FactRlException(tokenizer + ": cannot read the given tokenizer: " + e, e);
      }
    }

    ImmutableMap.Builder<String, Integer> splits = ImmutableMap.builder();
    for (Split s : Split.values()) {
      splits.put(s.name().toLowerCase(Locale.ROOT), data.scenes(s).size());
    }
    ImmutableMap.Builder<String, Integer> counts = ImmutableMap.builder();
    counts.put("images", data.size());
    counts.put(name(files, files.annotations()), data.size());
    counts.put(name(files, files.pretrain()), r.pretrain().size());
    counts.put(name(files, files.sft()), r.sft().size());
    counts.put(name(files, files.preferences()), r.preferences().size());
    counts.put(name(files, files.rlPrompts()), r.rl().size());
    counts.put(name(files, files.mmhal()), r.mmhal().size());
    for (PopeSampling p : PopeSampling.values()) {
      counts.put(name(files, files.pope(p)), r.pope().get(p).size());
    }
    Built built = new Built(splits.build(), counts.build(), contents(r), r.rejectedPairs());
    writeManifest(files, data, built);
    return built;
  }

  /** Each split's records: SFT conversations, judged preference pairs, RL prompts, MMHal and POPE. */
  private Records records(ShapesDataSet data, List<SceneTasks> tasks) {
    List<LlavaConversation> sft = new ArrayList<>();
    List<RlPrompt> rl = new ArrayList<>();
    List<MmhalRecord> mmhal = new ArrayList<>();
    Map<PopeSampling, List<PopeRecord>> pope = new EnumMap<>(PopeSampling.class);
    for (PopeSampling p : PopeSampling.values()) {
      pope.put(p, new ArrayList<>());
    }
    for (int i = 0; i < data.size(); i++) {
      SceneTasks t = tasks.get(i);
      switch (data.splitOf(i)) {
        case SFT -> sft.addAll(ShapesRecords.sft(t));
        case RL -> rl.addAll(ShapesRecords.rlPrompts(t));
        case EVAL -> {
          mmhal.addAll(ShapesRecords.mmhal(t));
          for (PopeSampling p : PopeSampling.values()) {
            List<PopeRecord> list = pope.get(p);
            list.addAll(ShapesRecords.pope(t, p, list.size() + 1));
          }
        }
        case RM -> { } // judged below, in parallel
      }
    }
    // judging is the costly part: scenes in parallel, results gathered in scene order
    // inserted and substituted objects are drawn as plausible errors: kinds that co-occur in this world
    CorruptionBootstrap bootstrap = CorruptionBootstrap.builder().seed(seed).statistics(data.statistics()).build();
    ExactJudge judge = new ExactJudge();
    int rmStart = data.start(Split.RM);
    List<PreferencePair> preferences = new ArrayList<>();
    int rejected = 0;
    for (ShapesRecords.JudgedPairs judged : inOrder(data.scenes(Split.RM).size(),
        k -> ShapesRecords.preferences(tasks.get(rmStart + k), bootstrap, judge))) {
      preferences.addAll(judged.pairs());
      rejected += judged.rejected();
    }
    return new Records(pretrain(data, tasks), sft, preferences, rejected, rl, mmhal, pope);
  }

  /**
   * The captions of the SFT scenes; with the curriculum, scenes with fewer objects first (stable:
   * scene order within a count), so a decoder first binds single objects to image tokens.
   */
  private List<LlavaConversation> pretrain(ShapesDataSet data, List<SceneTasks> tasks) {
    List<Integer> order = new ArrayList<>();
    for (int i = data.start(Split.SFT); i < data.start(Split.SFT) + data.scenes(Split.SFT).size(); i++) {
      order.add(i);
    }
    if (curriculum) {
      order.sort(java.util.Comparator.comparingInt(i -> data.scene(i).objects().size()));
    }
    List<LlavaConversation> out = new ArrayList<>();
    for (int i : order) {
      out.addAll(ShapesRecords.pretrain(tasks.get(i), i));
    }
    return out;
  }

  /**
   * What the SFT and preference files hold, for the summary and the manifest: SFT question/answer
   * turns by task kind (the conversation id's suffix), preference pairs by kind, and how many pairs
   * prefer the shorter output.
   */
  private static ImmutableMap<String, Integer> contents(Records r) {
    Map<String, Integer> sft = new java.util.TreeMap<>();
    for (LlavaConversation c : r.sft()) {
      String id = c.id();
      String kind = id.substring(id.lastIndexOf('-') + 1);
      sft.merge("sft turns: " + kind, c.conversations().size() / 2, Integer::sum);
    }
    Map<String, Integer> pairs = new java.util.TreeMap<>();
    int shorter = 0;
    for (PreferencePair p : r.preferences()) {
      String kind = p.id().substring(p.id().lastIndexOf("-pref-") + "-pref-".length());
      pairs.merge("preference pairs: " + kind, 1, Integer::sum);
      shorter += p.preferred().length() < p.rejected().length() ? 1 : 0;
    }
    ImmutableMap.Builder<String, Integer> out = ImmutableMap.builder();
    out.putAll(sft).putAll(pairs).put("preference pairs: preferred shorter", shorter);
    return out.build();
  }

  /** Renders and encodes every image in parallel; each file is written by the thread that made it. */
  private static void writeImages(ShapesDataSet data, DataSetFiles files) {
    try {
      Files.createDirectories(files.images());
    } catch (IOException e) {
      throw new FactRlException(files.images() + ": cannot create: " + e, e);
    }
    int size = data.sceneGenerator().imageSize();
    IntStream.range(0, data.size()).parallel().forEach(i -> {
      Scene s = data.scene(i);
      PngWriter.write(files.image(s.image()), s, size);
    });
  }

  /** {@code f(0..n-1)} computed in parallel, returned in index order (so output never depends on scheduling). */
  private static <T> ImmutableList<T> inOrder(int n, IntFunction<T> f) {
    return IntStream.range(0, n).parallel().mapToObj(f).collect(ImmutableList.toImmutableList());
  }

  /** Every text a model will read or write in this data set, for the tokenizer's merges. */
  private static List<String> corpus(List<SceneTasks> tasks, Records r) {
    List<String> text = new ArrayList<>();
    text.add(ChatTemplate.VICUNA_V1_SYSTEM);
    text.add("USER: ASSISTANT:");
    text.add(ShapesRecords.DESCRIBE);
    text.add(ShapesRecords.CAPTION);
    text.addAll(org.factrl.data.shapes.tasks.SftTasks.briefPrompts());
    for (SceneTasks t : tasks) {
      text.addAll(t.captions());
      text.add(t.description());
    }
    r.sft().forEach(c -> c.conversations().forEach(turn -> text.add(turn.value())));
    for (PreferencePair p : r.preferences()) {
      text.add(p.output1());
      text.add(p.output2());
    }
    for (RlPrompt p : r.rl()) {
      p.conversations().stream().map(Turn::value).forEach(text::add);
      p.rationale().ifPresent(text::add);
      p.answer().ifPresent(a -> text.addAll(a.choices()));
    }
    for (MmhalRecord m : r.mmhal()) {
      text.add(m.question());
      text.add(m.gtAnswer());
      text.addAll(m.imageContent());
    }
    r.pope().values().forEach(list -> list.forEach(p -> text.add(p.text())));
    return text;
  }

  /** The manifest's {@code settings}: everything that decides the data set's content. */
  private JsonObject settings() {
    JsonObject gen = new JsonObject();
    gen.addProperty("generator", "shapes-world");
    gen.addProperty("seed", seed);
    gen.addProperty("scenes", scenes);
    gen.addProperty("image_size", imageSize);
    JsonArray split = new JsonArray();
    for (double f : fractions) {
      split.add(f);
    }
    gen.add("split_fractions", split);
    gen.addProperty("pretrain_curriculum", curriculum);
    if (tokenizer != null) { // absent when learnt, so data sets written before this key are still reused
      gen.addProperty("tokenizer_sha256", sha256(tokenizer));
    }
    return gen;
  }

  /**
   * Whether {@code root} holds a complete data set this writer would write byte for byte (same
   * format and settings), so a pipeline can reuse it instead of writing it again.
   */
  public boolean wroteAlready(Path root) {
    DataSetFiles files = DataSetFiles.in(root);
    if (!files.isComplete()) {
      return false;
    }
    try {
      if (!OwnedFolder.verify(root).complete()) {
        return false; // a file missing, edited or added: not what this writer wrote
      }
      JsonObject m = JsonRecords.readDocument(files.manifest()).getAsJsonObject();
      // an older format version may be replaced (OwnedFolder) but never reused: its records differ
      return m.has("format_version") && m.get("format_version").isJsonPrimitive()
          && m.get("format_version").getAsDouble() == OwnedFolder.FORMAT_VERSION
          && settings().equals(m.get("settings"));
    } catch (FactRlException | IllegalStateException e) {
      return false; // an unreadable manifest is not a data set we can trust
    }
  }

  private void writeManifest(DataSetFiles files, ShapesDataSet data, Built built) {
    String listSha = OwnedFolder.writeFileList(files.root()); // every file but the manifest, checked on replace
    JsonObject m = new JsonObject();
    m.addProperty("format", OwnedFolder.FORMAT);
    m.addProperty("format_version", OwnedFolder.FORMAT_VERSION);
    m.add("settings", settings());
    JsonObject splits = new JsonObject();
    for (Split s : Split.values()) {
      JsonObject o = new JsonObject();
      o.addProperty("first_scene", data.start(s));
      o.addProperty("scenes", data.scenes(s).size());
      splits.add(s.name().toLowerCase(Locale.ROOT), o);
    }
    m.add("splits", splits);
    JsonObject fileInfo = new JsonObject();
    for (Map.Entry<String, Integer> e : built.records.entrySet()) {
      if (e.getKey().equals("images")) {
        continue;
      }
      JsonObject o = new JsonObject();
      o.addProperty("records", e.getValue());
      o.addProperty("sha256", sha256(files.root().resolve(e.getKey())));
      fileInfo.add(e.getKey(), o);
    }
    JsonObject tok = new JsonObject();
    tok.addProperty("sha256", sha256(files.tokenizer()));
    fileInfo.add(name(files, files.tokenizer()), tok);
    m.add("files", fileInfo);
    JsonObject images = new JsonObject();
    images.addProperty("folder", name(files, files.images()));
    images.addProperty("count", data.size());
    m.add("images", images);
    m.addProperty("rejected_bootstrap_pairs", built.rejectedPairs);
    JsonObject contents = new JsonObject();
    built.contents.forEach(contents::addProperty);
    m.add("record_contents", contents);
    JsonObject list = new JsonObject();
    list.addProperty("list", OwnedFolder.FILE_LIST);
    list.addProperty("sha256", listSha);
    m.add("contents", list);
    AtomicFiles.writeString(files.manifest(), JsonRecords.toPrettyJson(m) + "\n");
  }

  private static String name(DataSetFiles files, Path p) {
    return files.root().relativize(p).toString();
  }

  private static String sha256(Path file) {
    return OwnedFolder.sha256(file);
  }

  /** Refuses, before anything is built, a target this write may not replace. */
  private void checkTarget(Path target) {
    if (!Files.exists(target, LinkOption.NOFOLLOW_LINKS)) {
      return;
    }
    if (Files.isSymbolicLink(target)) {
      throw new FactRlException(target + ": is a symbolic link; not replaced (give the folder it points to, or"
          + " another path)");
    }
    if (!Files.isDirectory(target, LinkOption.NOFOLLOW_LINKS)) {
      throw new FactRlException(target + ": exists and is not a folder; not replaced");
    }
    OwnedFolder existing = OwnedFolder.verify(target); // throws, naming the first foreign file
    if (existing.complete() && !overwrite) {
      throw new FactRlException(target + ": a data set is already there; pass --overwrite to replace it");
    }
    if (!existing.complete() && !existing.isEmpty() && !overwrite) {
      throw new FactRlException(target + ": an incomplete data set is there; pass --overwrite to replace it");
    }
  }

  /**
   * Renames the finished folder to {@code target}. What was at {@code target} is first moved into
   * the staging folder, checked again there (it may have changed since {@link #checkTarget}), put
   * back if it is no longer only ours or if the rename fails, and deleted file by file only once the
   * new one is in place.
   */
  private void moveIntoPlace(StagingFolder staging, Path fresh, Path target) {
    Path aside = staging.previous();
    boolean moved = false;
    try {
      if (Files.exists(target, LinkOption.NOFOLLOW_LINKS)) {
        Files.move(target, aside, StandardCopyOption.ATOMIC_MOVE);
        moved = true;
      }
      OwnedFolder previous = moved ? OwnedFolder.verify(aside) : null;
      Files.move(fresh, target, StandardCopyOption.ATOMIC_MOVE);
      moved = false;
      if (previous != null) {
        ImmutableList<Path> left = previous.deleteOwnFiles();
        if (!left.isEmpty()) {
          staging.keep();
          notices.accept(aside + ": kept: the replaced data set's folder held " + left
              + " when it was deleted; check it and delete it yourself");
        }
      }
    } catch (IOException | FactRlException e) {
      if (moved) {
        try {
          Files.move(aside, target, StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException restore) {
          staging.keep();
          throw new FactRlException(target + ": cannot move the finished data set into place (" + e.getMessage()
              + "), nor put the previous one back; it is kept at " + aside, restore);
        }
      }
      throw e instanceof FactRlException f ? f
          : new FactRlException(target + ": cannot move the finished data set into place: " + e, e);
    }
  }

  /** Settings; every one has a default (1,000 scenes, seed 0, 64-pixel images, splits 0.5/0.2/0.2/0.1). */
  public static final class Builder {
    private long seed = 0;
    private int scenes = 1000;
    private int imageSize = SceneGenerator.DEFAULT_IMAGE_SIZE;
    private double[] fractions = {0.5, 0.2, 0.2, 0.1};
    private boolean overwrite;
    private boolean curriculum = true;
    private Path tokenizer;
    private Consumer<String> notices = System.err::println;
    private Consumer<Path> beforeSwap = fresh -> { };

    private Builder() {}

    public Builder seed(long seed) {
      this.seed = seed;
      return this;
    }

    /**
     * Number of scenes, 1..{@value #MAX_SCENES}; every split must get at least one, so at least 10
     * with the default fractions. The records of the whole data set are gathered in memory before
     * they are written (about 30 KB of heap per scene), hence the upper bound.
     */
    public Builder scenes(int n) {
      Preconditions.checkArgument(n >= 1 && n <= MAX_SCENES, "scenes must be in 1..%s, got %s", MAX_SCENES, n);
      this.scenes = n;
      return this;
    }

    public Builder imageSize(int pixels) {
      Preconditions.checkArgument(pixels >= 16 && pixels <= 1024, "image size must be in 16..1024 pixels, got %s", pixels);
      this.imageSize = pixels;
      return this;
    }

    /** Shares of the SFT, reward-model, RL and eval splits (see {@link ShapesDataSet.Builder#fractions}). */
    public Builder fractions(double sft, double rm, double rl, double eval) {
      ShapesDataSet.builder().fractions(sft, rm, rl, eval); // the checks live there
      this.fractions = new double[] {sft, rm, rl, eval};
      return this;
    }

    /**
     * Whether {@code pretrain.json} lists one-object scenes first, then two-object ones and so on
     * (default true), rather than in scene order.
     */
    public Builder curriculum(boolean curriculum) {
      this.curriculum = curriculum;
      return this;
    }

    /**
     * Copy {@code file} byte for byte as the data set's {@code tokenizer.json} instead of learning
     * one from the corpus (null: learn, the default). The learnt merges follow the corpus's
     * frequencies, so data sets of other seeds or sizes get other ids; a model (which carries its
     * tokenizer.json) is used with a data set only when both files match. The file is checked
     * ({@link GivenTokenizer}) and its SHA-256 is part of the manifest's settings.
     */
    public Builder tokenizer(Path file) {
      this.tokenizer = file == null ? null : file.toAbsolutePath().normalize();
      return this;
    }

    /** Replace an existing data set at the target (never a folder that is not one). */
    public Builder overwrite(boolean overwrite) {
      this.overwrite = overwrite;
      return this;
    }

    /**
     * Where {@link #write} reports, one line each, what it did beside the target: folders left by
     * interrupted runs that it removed or could not remove (default: standard error).
     */
    public Builder notices(Consumer<String> notices) {
      this.notices = Preconditions.checkNotNull(notices, "notices");
      return this;
    }

    /** For tests: runs with the finished data set's folder just before it is moved into place. */
    @com.google.common.annotations.VisibleForTesting
    Builder beforeSwap(Consumer<Path> hook) {
      this.beforeSwap = Preconditions.checkNotNull(hook, "hook");
      return this;
    }

    /** @throws IllegalArgumentException when a split with a non-zero share would get no scene */
    public ShapesDataSetWriter build() {
      double sum = 0;
      long bound = 0;
      for (int k = 0; k < fractions.length; k++) { // the bounds ShapesDataSet computes
        sum += fractions[k];
        long next = k == fractions.length - 1 ? scenes : Math.round(sum * scenes);
        Preconditions.checkArgument(fractions[k] == 0 || next > bound,
            "%s scenes leave the %s split empty; use more scenes", scenes,
            Split.values()[k].name().toLowerCase(Locale.ROOT));
        bound = next;
      }
      return new ShapesDataSetWriter(this);
    }
  }
}
