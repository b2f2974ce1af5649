package org.factrl.data.format;

/**
 * One POPE probe, as a line of POPE's question files ({@code coco_pope_random.json} and friends are
 * JSON Lines):
 *
 * <pre>{@code
 * {"question_id": 1, "image": "shapes-000042.png", "text": "Is there a red circle in the image?", "label": "yes"}
 * }</pre>
 *
 * {@code image} is relative to the data set's image folder; {@code label} is {@code yes} or {@code no}.
 */
public record PopeRecord(int questionId, String image, String text, boolean labelYes) {
  public PopeRecord {
    if (questionId < 0) {
      throw new InvalidFieldException("question_id", "expected an id >= 0, got " + questionId);
    }
    Conversations.checkImagePath(image, "image");
    if (text == null || text.isBlank()) {
      throw new InvalidFieldException("text", text == null ? "missing" : "must not be empty");
    }
  }

  /** "yes" or "no". */
  public String label() {
    return labelYes ? "yes" : "no";
  }
}
