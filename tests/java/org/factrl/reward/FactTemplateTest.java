package org.factrl.reward;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import org.factrl.data.format.Turn;
import org.factrl.data.text.ChatTemplate;
import org.factrl.engine.FactRlException;
import org.factrl.train.SplitMix64;
import org.junit.jupiter.api.Test;

/** The reward model's input text: layout, every caption once, seeded shuffles, the cue last. */
class FactTemplateTest {
  private static final List<Turn> PROMPT = List.of(Turn.human("<image>\nWhat colour is the circle?"));
  private static final List<String> CAPTIONS = List.of("A red circle on grass.", "One red circle and a blue square.",
      "A blue square left of a circle.", "Two shapes on a grassy field.", "The circle is red.");
  private static final FactTemplate.Facts FACTS = FactTemplate.Facts.of(CAPTIONS, Optional.of("The only circle is red."));

  private static List<String> factLines(String text) {
    List<String> out = new ArrayList<>();
    for (String line : text.split("\n")) {
      if (line.startsWith(FactTemplate.BULLET)) {
        out.add(line.substring(FactTemplate.BULLET.length()));
      }
    }
    return out;
  }

  @Test
  void theConversationComesFirstThenTheInstructionFactsAndTheCueLast() {
    String text = FactTemplate.withFacts(PROMPT, "The circle is red.", FACTS, new SplitMix64(1));
    String conversation = ChatTemplate.vicunaV1().render(List.of(PROMPT.get(0), Turn.gpt("The circle is red.")));
    assertEquals(conversation, FactTemplate.withoutFacts(PROMPT, "The circle is red."));
    assertTrue(text.startsWith(conversation + "USER: " + FactTemplate.INSTRUCTION + "\n"), text);
    assertTrue(conversation.endsWith("ASSISTANT: The circle is red.</s>"), conversation);
    assertTrue(text.endsWith("\n" + FactTemplate.QUESTION + " " + FactTemplate.CUE), text);
    assertTrue(FactTemplate.INSTRUCTION.contains("accurate, helpful, natural and concise"));
    assertTrue(FactTemplate.INSTRUCTION.contains("fully supported by these facts"));
    List<String> lines = factLines(text);
    assertEquals(CAPTIONS.size() + 1, lines.size());
    assertEquals(new HashSet<>(CAPTIONS), new HashSet<>(lines.subList(0, CAPTIONS.size())), "every caption once");
    assertEquals("The only circle is red.", lines.get(CAPTIONS.size()), "the rationale comes last");
  }

  @Test
  void captionsAreShuffledEachTimeAndTheSameSeedGivesTheSameOrder() {
    Set<List<String>> orders = new HashSet<>();
    SplitMix64 rng = new SplitMix64(7);
    for (int i = 0; i < 40; i++) {
      orders.add(factLines(FactTemplate.withFacts(PROMPT, "Red.", FACTS, rng)));
    }
    assertTrue(orders.size() > 20, "40 draws of 5! = 120 orders gave only " + orders.size());
    assertEquals(FactTemplate.withFacts(PROMPT, "Red.", FACTS, new SplitMix64(3)),
        FactTemplate.withFacts(PROMPT, "Red.", FACTS, new SplitMix64(3)));
    assertNotEquals(FactTemplate.withFacts(PROMPT, "Red.", FACTS, new SplitMix64(3)),
        FactTemplate.withFacts(PROMPT, "Red.", FACTS, new SplitMix64(4)));
    // the shuffle is Fisher–Yates: each caption reaches the first line about equally often
    int[] first = new int[CAPTIONS.size()];
    SplitMix64 r = new SplitMix64(11);
    for (int i = 0; i < 5000; i++) {
      first[CAPTIONS.indexOf(FactTemplate.shuffled(CAPTIONS, r).get(0))]++;
    }
    for (int c : first) {
      assertTrue(c > 850 && c < 1150, "first-line counts " + java.util.Arrays.toString(first));
    }
  }

  @Test
  void aCaptionWithLineBreaksStaysOnOneLine() {
    String text = FactTemplate.withFacts(PROMPT, "Red.", FactTemplate.Facts.of(List.of("A red\n circle."),
        Optional.empty()), new SplitMix64(0));
    assertEquals(List.of("A red circle."), factLines(text));
  }

  @Test
  void emptyFactsAndEmptyResponsesAreRefused() {
    FactRlException e = assertThrows(FactRlException.class,
        () -> FactTemplate.withFacts(PROMPT, "Red.", FactTemplate.Facts.none(), new SplitMix64(0)));
    assertTrue(e.getMessage().contains("facts"), e.getMessage());
    assertThrows(FactRlException.class, () -> FactTemplate.withoutFacts(PROMPT, " "));
    assertThrows(FactRlException.class, () -> FactTemplate.Facts.of(List.of("ok", ""), Optional.empty()));
  }
}
