package org.factrl.data.shapes.tasks;

import com.google.common.base.Preconditions;
import com.google.common.collect.ImmutableList;
import com.google.common.collect.ImmutableMap;
import org.factrl.data.MmhalType;
import org.factrl.data.PopeSampling;
import org.factrl.data.shapes.Scene;

/**
 * Every task generated from one scene: five captions, a detailed description, balanced yes/no
 * questions, multiple-choice questions with rationales, one MMHal question per type (in {@link
 * MmhalType} order) and POPE probe sets for each sampling setting; and the SFT-only tasks ({@link
 * SftTasks}: short-caption turn, open questions of every type in varied wordings, POPE-style probes).
 */
public record SceneTasks(
    Scene scene,
    ImmutableList<String> captions,
    String description,
    ImmutableList<YesNoQuestion> yesNo,
    ImmutableList<MultipleChoiceQuestion> multipleChoice,
    ImmutableList<MmhalQuestion> mmhal,
    ImmutableMap<PopeSampling, ImmutableList<PopeProbe>> pope,
    SftTasks sft) {
  public SceneTasks {
    Preconditions.checkNotNull(scene, "scene");
    Preconditions.checkNotNull(captions, "captions");
    Preconditions.checkNotNull(description, "description");
    Preconditions.checkNotNull(yesNo, "yesNo");
    Preconditions.checkNotNull(multipleChoice, "multipleChoice");
    Preconditions.checkNotNull(mmhal, "mmhal");
    Preconditions.checkArgument(pope.keySet().containsAll(ImmutableList.copyOf(PopeSampling.values())),
        "POPE probes for every sampling setting are needed, got %s", pope.keySet());
    Preconditions.checkNotNull(sft, "sft");
  }

  /** The POPE probes of one setting. */
  public ImmutableList<PopeProbe> pope(PopeSampling sampling) {
    return pope.get(sampling);
  }

  /** The MMHal question of one type. */
  public MmhalQuestion mmhal(MmhalType type) {
    for (MmhalQuestion q : mmhal) {
      if (q.type() == type) {
        return q;
      }
    }
    throw new IllegalArgumentException("no " + type + " question for scene " + scene.id());
  }
}
