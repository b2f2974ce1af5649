package org.factrl.data.shapes.tasks;

import com.google.common.base.Preconditions;
import org.factrl.data.PopeSampling;
import org.factrl.data.shapes.ObjectKind;

/**
 * A POPE-style presence question for SFT, in one of several wordings, with a reference reply that
 * starts with "Yes" or "No" (POPE's scorer reads the first word) and sometimes states the fact
 * ("No, there is no red circle in the image."). {@code sampling} is the rule that chose an absent
 * {@code object} (positives carry {@link PopeSampling#RANDOM}: every setting asks about them).
 */
public record PresenceProbe(PopeSampling sampling, ObjectKind object, boolean present, String question,
    String reply) {
  public PresenceProbe {
    Preconditions.checkNotNull(sampling, "sampling");
    Preconditions.checkNotNull(object, "object");
    Preconditions.checkArgument(question.endsWith("?"), "not a question: %s", question);
    Preconditions.checkArgument(reply.startsWith(present ? "Yes" : "No"), "reply %s does not answer %s", reply,
        present ? "yes" : "no");
  }
}
