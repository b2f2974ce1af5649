package org.factrl.data.shapes.tasks;

import com.google.common.base.Preconditions;
import com.google.common.collect.ImmutableList;
import org.factrl.data.MmhalType;

/**
 * The SFT-only tasks of a scene, on top of those every split shares: a short-caption turn for
 * projector alignment ({@code briefPrompt}, one of several wordings, answered by one of the five
 * captions), one open question of each MMHal type in {@link MmhalType} order (varied wordings, the
 * same ground-truth sentences as the evaluation's) and balanced POPE-style presence probes whose
 * absent objects come from all three POPE sampling rules.
 */
public record SftTasks(String briefPrompt, String briefCaption, ImmutableList<MmhalQuestion> open,
    ImmutableList<PresenceProbe> probes) {
  public SftTasks {
    Preconditions.checkNotNull(briefPrompt, "briefPrompt");
    Preconditions.checkNotNull(briefCaption, "briefCaption");
    Preconditions.checkArgument(open.size() == MmhalType.values().length, "one open question per MMHal type, got %s",
        open.size());
    Preconditions.checkNotNull(probes, "probes");
  }

  /** The short-caption instructions {@code briefPrompt} is drawn from ("Describe the image briefly." first). */
  public static ImmutableList<String> briefPrompts() {
    return Phrasing.BRIEF;
  }
}
