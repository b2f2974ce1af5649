package org.factrl.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import org.factrl.data.dataset.DataSetFiles;
import org.factrl.data.dataset.ShapesDataSetWriter;
import org.factrl.data.format.LlavaConversation;
import org.factrl.data.format.Turn;
import org.factrl.data.image.ImagePreprocessor;
import org.factrl.data.shapes.PngWriter;
import org.factrl.data.text.ChatTemplate;
import org.factrl.data.text.TokenizedConversation;
import org.factrl.data.text.Tokenizer;
import org.factrl.engine.FactRlException;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Batching for image conversations on hand-checked examples: the {@code <image>} placeholder
 * (one special token after tokenising) becomes P image tokens with mask 0; right padding; targets
 * and the loss mask shifted left by one; images normalised with CLIP's mean/std; rows without an
 * image; truncation; the data order's determinism and resumable cursor.
 */
class BatchingTest {
  @TempDir static Path dir;
  static Tokenizer tokenizer;
  static DataSetFiles files;

  @BeforeAll
  static void dataSet() {
    Path ds = dir.resolve("ds");
    ShapesDataSetWriter.builder().scenes(10).imageSize(16).seed(3).build().write(ds);
    files = DataSetFiles.in(ds);
    tokenizer = Tokenizer.load(files.tokenizer());
  }

  @AfterAll
  static void close() {
    tokenizer.close();
  }

  private static final int IMAGE = 4;
  private static final int PAD = 3;

  private static LlavaConversation withImage() {
    return LlavaConversation.withImage("r1", "x.png", List.of(Turn.human("<image>\nWhat colour is the circle?"),
        Turn.gpt("It is red.")));
  }

  @Test
  void theImagePlaceholderBecomesPImageTokensWithMaskZero() {
    TokenizedConversation plain = ChatTemplate.vicunaV1().tokenize(withImage().conversations(), tokenizer);
    int[] ids = plain.ids();
    int[] mask = plain.lossMask();
    int at = -1;
    for (int i = 0; i < ids.length; i++) {
      if (ids[i] == IMAGE) {
        assertEquals(-1, at, "one <image> token after tokenising");
        at = i;
      }
    }
    assertTrue(at > 0, "the tokenizer keeps <image> as its one special token");
    assertEquals(0, mask[at]);
    int p = 5;
    TrainingExample e = new ConversationEncoder(tokenizer, ChatTemplate.vicunaV1(), IMAGE, p, 1000, files.images())
        .encode(withImage());
    int[] got = e.ids();
    int[] gotMask = e.lossMask();
    assertEquals(ids.length + p - 1, got.length);
    for (int i = 0; i < at; i++) {
      assertEquals(ids[i], got[i]);
      assertEquals(mask[i], gotMask[i]);
    }
    for (int k = 0; k < p; k++) {
      assertEquals(IMAGE, got[at + k]);
      assertEquals(0, gotMask[at + k]);
    }
    for (int i = at + 1; i < ids.length; i++) {
      assertEquals(ids[i], got[i + p - 1]);
      assertEquals(mask[i], gotMask[i + p - 1]);
    }
    assertEquals(plain.targetCount(), e.targetCount());
    assertTrue(e.targetCount() > 0);
    assertEquals(files.images().resolve("x.png"), e.image().orElseThrow());
    // the assistant's text is exactly what the mask selects
    StringBuilder targets = new StringBuilder();
    for (int i = 0; i < got.length; i++) {
      if (gotMask[i] == 1) {
        targets.append(tokenizer.decode(new int[] {got[i]}));
      }
    }
    assertEquals(" It is red.</s>", targets.toString());
  }

  @Test
  void aTextOnlyRecordHasNoImageTokens() {
    LlavaConversation r = LlavaConversation.textOnly("t", List.of(Turn.human("Hello?"), Turn.gpt("Hi.")));
    TrainingExample e = new ConversationEncoder(tokenizer, ChatTemplate.vicunaV1(), IMAGE, 5, 1000, files.images())
        .encode(r);
    assertArrayEquals(ChatTemplate.vicunaV1().tokenize(r.conversations(), tokenizer).ids(), e.ids());
    assertTrue(e.image().isEmpty());
  }

  @Test
  void longSequencesAreCutButNeverThroughTheImage() {
    ConversationEncoder full = new ConversationEncoder(tokenizer, ChatTemplate.vicunaV1(), IMAGE, 5, 1000,
        files.images());
    TrainingExample e = full.encode(withImage());
    int cut = e.length() - 3;
    TrainingExample shorter = new ConversationEncoder(tokenizer, ChatTemplate.vicunaV1(), IMAGE, 5, cut,
        files.images()).encode(withImage());
    assertEquals(cut, shorter.length());
    assertArrayEquals(java.util.Arrays.copyOf(e.ids(), cut), shorter.ids());
    FactRlException tooShort = assertThrows(FactRlException.class, () -> new ConversationEncoder(tokenizer,
        ChatTemplate.vicunaV1(), IMAGE, 500, 300, files.images()).encode(withImage()));
    assertTrue(tooShort.getMessage().contains("record 'r1'") && tooShort.getMessage().contains("max_length 300"),
        tooShort.getMessage());
  }

  @Test
  void theModelsImageIdMustBeTheTokenizers() {
    FactRlException e = assertThrows(FactRlException.class,
        () -> new ConversationEncoder(tokenizer, ChatTemplate.vicunaV1(), 7, 5, 100, files.images()));
    assertTrue(e.getMessage().contains("image_token_id is 7"), e.getMessage());
  }

  @Test
  void rowsArePaddedRightAndTargetsAndMaskShiftLeft() throws Exception {
    byte[] white = new byte[4 * 4 * 3];
    java.util.Arrays.fill(white, (byte) 255);
    Path png = dir.resolve("white.png");
    PngWriter.write(png, white, 4, 4);
    TrainingExample a = new TrainingExample("a", new int[] {1, 10, 11, 12}, new int[] {0, 0, 1, 1}, Optional.empty());
    TrainingExample b = new TrainingExample("b", new int[] {1, 4, 4, 20, 21, 2}, new int[] {0, 0, 0, 1, 1, 1},
        Optional.of(png));
    Batch batch = new ImageConversationBatcher(PAD, 4, 3).batch(List.of(a, b));
    assertEquals(2, batch.rows());
    assertEquals(6, batch.seq());
    assertArrayEquals(new int[] {1, 10, 11, 12, PAD, PAD, 1, 4, 4, 20, 21, 2}, batch.inputIds());
    assertArrayEquals(new int[] {10, 11, 12, PAD, PAD, PAD, 4, 4, 20, 21, 2, PAD}, batch.targets());
    assertArrayEquals(new float[] {0, 1, 1, 0, 0, 0, 0, 0, 1, 1, 1, 0}, batch.lossMask());
    assertEquals(5, batch.targetTokens());
    assertEquals(10, batch.realTokens());
    assertEquals(1, batch.imageRows());
    assertEquals(3 * 4 * 4, batch.images().length);
    for (int c = 0; c < 3; c++) {
      float want = (1f - ImagePreprocessor.CLIP_MEAN[c]) / ImagePreprocessor.CLIP_STD[c];
      for (int i = 0; i < 16; i++) {
        assertEquals(want, batch.images()[c * 16 + i], 1e-5f, "channel " + c);
      }
    }
    assertEquals(List.of("a", "b"), batch.exampleIds());
    Batch textOnly = new ImageConversationBatcher(PAD, 4, 3).batch(List.of(a));
    assertEquals(0, textOnly.imageRows());
    assertEquals(0, textOnly.images().length);
    assertTrue(Files.exists(png));
  }

  @Test
  void theDataOrderIsSeededAndItsCursorResumesExactly() {
    DataOrder a = new DataOrder(7, 11);
    int[] first = a.next(5);
    int[] rest = a.next(12); // crosses into epochs 1 and 2
    assertEquals(2, a.epoch());
    assertEquals(3, a.position());
    DataOrder again = new DataOrder(7, 11);
    assertArrayEquals(first, again.next(5));
    DataOrder resumed = new DataOrder(7, 11, 0, 5);
    assertArrayEquals(rest, resumed.next(12));
    int[] e0 = DataOrder.permutation(7, 11, 0);
    int[] sorted = e0.clone();
    java.util.Arrays.sort(sorted);
    assertArrayEquals(new int[] {0, 1, 2, 3, 4, 5, 6}, sorted);
    assertTrue(!java.util.Arrays.equals(e0, DataOrder.permutation(7, 11, 1))
        || !java.util.Arrays.equals(e0, DataOrder.permutation(7, 12, 0)), "epochs and seeds change the order");
    assertArrayEquals(java.util.Arrays.copyOfRange(e0, 0, 5), first);
  }

  @Test
  void splitMix64ContinuesFromItsState() {
    SplitMix64 r = new SplitMix64(42);
    r.nextLong();
    SplitMix64 copy = new SplitMix64(r.state());
    assertEquals(r.nextLong(), copy.nextLong());
    // the reference value of SplitMix64 seeded with 0 (the published first output)
    assertEquals(0xE220A8397B1DCDAFL, new SplitMix64(0).nextLong());
  }
}
