package org.factrl.data.format;

import com.google.common.collect.ImmutableList;
import org.factrl.data.MmhalType;

/**
 * One entry of MMHal-Bench's {@code response_template.json}, the file an external (GPT-4) judge
 * reads:
 *
 * <pre>{@code
 * {"question_type": "counting",              // one of the 8 MmhalType names
 *  "question_topic": "shapes",               // may be empty
 *  "image_id": "scene-000001",
 *  "image_src": "images/scene-000001.png",
 *  "image_content": ["circle", "square"],    // object names in the image; may be empty
 *  "question": "How many circles are there?",
 *  "gt_answer": "There are two circles.",
 *  "model_answer": ""}                       // empty in a template, filled for judging
 * }</pre>
 */
public record MmhalRecord(
    MmhalType questionType,
    String questionTopic,
    String imageId,
    String imageSrc,
    ImmutableList<String> imageContent,
    String question,
    String gtAnswer,
    String modelAnswer) {

  public MmhalRecord {
    if (questionType == null) {
      throw new InvalidFieldException("question_type", "missing");
    }
    requireNonNull(questionTopic, "question_topic");
    requireText(imageId, "image_id");
    Conversations.checkImagePath(imageSrc, "image_src");
    if (imageContent == null) {
      throw new InvalidFieldException("image_content", "missing");
    }
    requireText(question, "question");
    requireText(gtAnswer, "gt_answer");
    requireNonNull(modelAnswer, "model_answer");
  }

  /** This record with the model's answer filled in (for export to the judge). */
  public MmhalRecord withModelAnswer(String answer) {
    return new MmhalRecord(questionType, questionTopic, imageId, imageSrc, imageContent, question, gtAnswer, answer);
  }

  private static void requireNonNull(String s, String field) {
    if (s == null) {
      throw new InvalidFieldException(field, "missing");
    }
  }

  private static void requireText(String s, String field) {
    requireNonNull(s, field);
    if (s.isBlank()) {
      throw new InvalidFieldException(field, "must not be empty");
    }
  }
}
