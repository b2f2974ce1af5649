package org.factrl.data.format;

import com.google.common.collect.ImmutableList;
import java.util.List;
import java.util.Optional;

/**
 * One record of LLaVA conversation JSON (SFT data):
 *
 * <pre>{@code
 * {"id": "scene-000001-desc",
 *  "image": "images/scene-000001.png",          // optional: absent for text-only records
 *  "conversations": [
 *    {"from": "human", "value": "<image>\nDescribe the image."},
 *    {"from": "gpt",   "value": "A red circle on grass."}]}
 * }</pre>
 *
 * Rules ({@link Conversations}): turns alternate starting with {@code human} and end with
 * {@code gpt}; values are non-empty; with an image, exactly one {@code <image>} in the first human
 * turn; without, none. {@code image} is a path relative to the data set's image folder.
 */
public record LlavaConversation(String id, Optional<String> image, ImmutableList<Turn> conversations) {
  public LlavaConversation {
    Conversations.checkId(id);
    Conversations.checkImage(image);
    conversations = Conversations.check(conversations, image.isPresent(), Conversations.Ending.GPT);
  }

  public static LlavaConversation withImage(String id, String image, List<Turn> turns) {
    return new LlavaConversation(id, Optional.of(image), ImmutableList.copyOf(turns));
  }

  public static LlavaConversation textOnly(String id, List<Turn> turns) {
    return new LlavaConversation(id, Optional.empty(), ImmutableList.copyOf(turns));
  }
}
