package org.factrl.data.shapes.tasks;

import com.google.common.base.Preconditions;
import com.google.common.collect.ImmutableList;
import org.factrl.data.shapes.Scene;
import org.factrl.data.shapes.SceneGenerator;
import org.factrl.data.shapes.SceneRenderer;

/**
 * An in-memory shapes-world data set: scenes {@code 0..n-1} of a {@link SceneGenerator}, split by
 * index into contiguous ranges for SFT, reward-model, RL and evaluation (in that order), with the
 * object statistics of all its scenes for POPE. Tasks and images are made on demand (cheap and
 * deterministic), so only the scene graphs stay in memory.
 */
public final class ShapesDataSet {
  /** The pipeline stage a scene serves. */
  public enum Split { SFT, RM, RL, EVAL }

  private final SceneGenerator scenes;
  private final TaskGenerator tasks;
  private final ImmutableList<Scene> all;
  private final int[] bounds; // split k holds indices bounds[k] .. bounds[k+1]-1
  private final ObjectStatistics statistics;

  private ShapesDataSet(Builder b) {
    this.scenes = b.scenes;
    this.tasks = b.tasks;
    this.all = b.scenes.scenes(0, b.count);
    this.statistics = ObjectStatistics.of(all);
    this.bounds = new int[Split.values().length + 1];
    double sum = 0;
    for (int k = 0; k < b.fractions.length; k++) {
      sum += b.fractions[k];
      bounds[k + 1] = k == b.fractions.length - 1 ? b.count : (int) Math.round(sum * b.count);
    }
  }

  public static Builder builder() {
    return new Builder();
  }

  public SceneGenerator sceneGenerator() {
    return scenes;
  }

  public TaskGenerator taskGenerator() {
    return tasks;
  }

  public int size() {
    return all.size();
  }

  public ImmutableList<Scene> scenes() {
    return all;
  }

  public ImmutableList<Scene> scenes(Split split) {
    return all.subList(bounds[split.ordinal()], bounds[split.ordinal() + 1]);
  }

  /** First scene index of a split (the split holds {@code scenes(split).size()} from there). */
  public int start(Split split) {
    return bounds[split.ordinal()];
  }

  public Split splitOf(int index) {
    Preconditions.checkElementIndex(index, all.size(), "scene index");
    for (Split s : Split.values()) {
      if (index < bounds[s.ordinal() + 1]) {
        return s;
      }
    }
    throw new AssertionError(index);
  }

  public Scene scene(int index) {
    return all.get(index);
  }

  /** Object statistics over all scenes of the data set (POPE popular / adversarial). */
  public ObjectStatistics statistics() {
    return statistics;
  }

  public SceneTasks tasks(int index) {
    return tasks.generate(scene(index), statistics);
  }

  /** RGB bytes of scene {@code index} at the generator's image size. */
  public byte[] image(int index) {
    return SceneRenderer.render(scene(index), scenes.imageSize());
  }

  /** Options of a {@link ShapesDataSet}. */
  public static final class Builder {
    private SceneGenerator scenes = SceneGenerator.withSeed(0);
    private TaskGenerator tasks = TaskGenerator.withSeed(0);
    private int count = 1000;
    private double[] fractions = {0.5, 0.2, 0.2, 0.1};

    private Builder() {}

    /** One seed for both generators (a convenience over {@link #sceneGenerator}/{@link #taskGenerator}). */
    public Builder seed(long seed) {
      this.scenes = SceneGenerator.withSeed(seed);
      this.tasks = TaskGenerator.withSeed(seed);
      return this;
    }

    public Builder sceneGenerator(SceneGenerator g) {
      this.scenes = Preconditions.checkNotNull(g);
      return this;
    }

    public Builder taskGenerator(TaskGenerator g) {
      this.tasks = Preconditions.checkNotNull(g);
      return this;
    }

    public Builder scenes(int n) {
      Preconditions.checkArgument(n >= 1, "a data set needs at least one scene, got %s", n);
      this.count = n;
      return this;
    }

    /** Shares of the SFT, RM, RL and eval splits (non-negative, summing to 1; default 0.5/0.2/0.2/0.1). */
    public Builder fractions(double sft, double rm, double rl, double eval) {
      double[] f = {sft, rm, rl, eval};
      double sum = 0;
      for (double v : f) {
        Preconditions.checkArgument(v >= 0, "split fractions must be >= 0, got %s", v);
        sum += v;
      }
      Preconditions.checkArgument(Math.abs(sum - 1) < 1e-9, "split fractions must sum to 1, got %s", sum);
      this.fractions = f;
      return this;
    }

    public ShapesDataSet build() {
      return new ShapesDataSet(this);
    }
  }
}
