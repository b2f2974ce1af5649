package org.factrl.data.shapes.tasks;

import com.google.common.base.Preconditions;
import com.google.common.collect.ImmutableList;
import java.util.SplittableRandom;
import org.factrl.data.shapes.Scene;
import org.factrl.data.shapes.Seeds;

/**
 * Generates every task of a scene ({@link SceneTasks}), deterministically: the output depends only on
 * the scene, this generator's settings and the statistics table, never on which scenes were
 * generated before. Each task family draws from its own stream derived from (seed, family, scene
 * id), so changing one family's options leaves the others' text unchanged.
 *
 * <p>Thread-safe and immutable: call {@link #generate} from any number of threads.
 */
public final class TaskGenerator {
  private final long seed;
  private final int yesNoQuestions;
  private final int multipleChoiceQuestions;
  private final int popeObjects;

  private TaskGenerator(Builder b) {
    this.seed = b.seed;
    this.yesNoQuestions = b.yesNoQuestions;
    this.multipleChoiceQuestions = b.multipleChoiceQuestions;
    this.popeObjects = b.popeObjects;
  }

  public static Builder builder() {
    return new Builder();
  }

  /** Defaults with the given seed. */
  public static TaskGenerator withSeed(long seed) {
    return builder().seed(seed).build();
  }

  public long seed() {
    return seed;
  }

  /**
   * All tasks for {@code scene}. {@code statistics} (object frequencies over the data set) drives
   * POPE's popular and adversarial negatives; pass {@link ObjectStatistics#empty()} when there is no
   * data set.
   */
  public SceneTasks generate(Scene scene, ObjectStatistics statistics) {
    Preconditions.checkNotNull(scene, "scene");
    Preconditions.checkNotNull(statistics, "statistics");
    SceneFacts facts = new SceneFacts(scene);
    String description = Captions.description(facts, stream(0, scene));
    ImmutableList<String> captions = Captions.captions(facts, stream(1, scene));
    return new SceneTasks(
        scene,
        captions,
        description,
        YesNoQuestions.generate(facts, yesNoQuestions, stream(2, scene)),
        MultipleChoiceQuestions.generate(facts, multipleChoiceQuestions, stream(3, scene)),
        MmhalQuestions.generate(facts, description, stream(4, scene)),
        PopeProbes.generate(facts, statistics, popeObjects, stream(5, scene)),
        SftQuestions.generate(facts, description, captions, statistics, popeObjects, stream(6, scene)));
  }

  private SplittableRandom stream(int family, Scene scene) {
    return Seeds.stream(seed * 31 + family, scene.id());
  }

  /** Options of a {@link TaskGenerator}; every setting has a default. */
  public static final class Builder {
    private long seed = 0;
    private int yesNoQuestions = 4;
    private int multipleChoiceQuestions = 2;
    private int popeObjects = 3;

    private Builder() {}

    public Builder seed(long seed) {
      this.seed = seed;
      return this;
    }

    /** Yes/no questions per scene, even so half can be "yes" (default 4). */
    public Builder yesNoQuestions(int n) {
      Preconditions.checkArgument(n >= 0 && n % 2 == 0 && n <= 32, "yes/no questions must be even in 0..32, got %s", n);
      this.yesNoQuestions = n;
      return this;
    }

    /** Multiple-choice questions per scene, each of a different form, 0..3 (default 2). */
    public Builder multipleChoiceQuestions(int n) {
      Preconditions.checkArgument(n >= 0 && n <= 3, "multiple-choice questions must be in 0..3, got %s", n);
      this.multipleChoiceQuestions = n;
      return this;
    }

    /** Present objects POPE asks about per scene, each matched by one absent object (default 3). */
    public Builder popeObjects(int n) {
      Preconditions.checkArgument(n >= 1 && n <= 8, "POPE objects must be in 1..8, got %s", n);
      this.popeObjects = n;
      return this;
    }

    public TaskGenerator build() {
      return new TaskGenerator(this);
    }
  }
}
