package org.factrl.eval;

import com.google.common.base.Preconditions;
import java.nio.file.Path;

/**
 * One question the evaluation asks about one image: the id that names it in {@code answers.jsonl}
 * and errors ("mmhal-0003", "pope-random-0017", "chair-shapes-000042"), the scene it is about (the
 * annotations' id, or the image path for probes that carry none), the image file, and the user
 * turn's text without the image placeholder ({@link PromptEncoder} adds it where SFT data has it).
 */
public record Question(String id, String imageId, Path image, String text) {
  public Question {
    Preconditions.checkNotNull(id, "id");
    Preconditions.checkNotNull(imageId, "imageId");
    Preconditions.checkNotNull(image, "image");
    Preconditions.checkNotNull(text, "text");
    Preconditions.checkArgument(!text.isBlank(), "question %s: text must not be empty", id);
  }
}
