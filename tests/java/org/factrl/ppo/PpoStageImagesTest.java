package org.factrl.ppo;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import org.factrl.data.dataset.DataSetFiles;
import org.factrl.data.dataset.ShapesDataSetWriter;
import org.factrl.data.format.RlPrompt;
import org.factrl.data.format.RlPromptCodec;
import org.factrl.data.image.ImagePreprocessor;
import org.factrl.data.image.ResizeMode;
import org.factrl.data.text.Tokenizer;
import org.factrl.engine.FactRlException;
import org.factrl.model.ModelConfig;
import org.factrl.model.Projector;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Regression for the first chained smoke run (data -> sft -> rm -> ppo): a data set's rl_prompts.json
 * names images relative to images/ (as sft.json and preferences.json do), but PPO resolved them
 * against the data set's root and failed on the first prompt ("cannot load image: no such file").
 */
class PpoStageImagesTest {
  @TempDir Path dir;

  @Test
  void promptImagesAreReadFromTheDataSetsImageFolder() throws IOException {
    Path data = dir.resolve("ds");
    ShapesDataSetWriter.builder().scenes(12).imageSize(16).seed(3).build().write(data);
    DataSetFiles files = DataSetFiles.in(data);
    List<RlPrompt> records = RlPromptCodec.read(files.rlPrompts());
    assertTrue(records.get(0).image().isPresent(), "the data set's RL prompts carry images");
    try (Tokenizer tok = Tokenizer.load(files.tokenizer())) {
      ModelConfig mc = micro(tok.vocabSize());
      List<PpoPrompt> prompts = PpoStage.encode(records, tok, mc, files.images(), 512);
      assertEquals(records.size(), prompts.size());
      ImagePreprocessor pre = ImagePreprocessor.builder().size(mc.imageSize())
          .resizeMode(ResizeMode.SHORTEST_SIDE_CENTER_CROP)
          .mean(ImagePreprocessor.CLIP_MEAN[0], ImagePreprocessor.CLIP_MEAN[1], ImagePreprocessor.CLIP_MEAN[2])
          .std(ImagePreprocessor.CLIP_STD[0], ImagePreprocessor.CLIP_STD[1], ImagePreprocessor.CLIP_STD[2])
          .build();
      float[] want = pre.load(files.image(records.get(0).image().get()));
      assertNotNull(prompts.get(0).image());
      assertArrayEquals(want, prompts.get(0).image());

      // The data set's root is not where its images are: the error names the prompt and the field.
      FactRlException e = assertThrows(FactRlException.class,
          () -> PpoStage.encode(records, tok, mc, files.root(), 512));
      assertTrue(e.getMessage().contains("no such file"), e.getMessage());
    }
  }

  private static ModelConfig micro(int vocab) {
    return ModelConfig.builder()
        .imageSize(16).imageChannels(3).patchSize(8)
        .visionHidden(16).visionLayers(1).visionHeads(2).visionIntermediate(32).visionFeatureLayer(-1)
        .projector(Projector.LINEAR)
        .vocabSize(vocab).hidden(32).layers(2).heads(2).intermediate(64).maxPositions(512)
        .imageTokenId(4)
        .build();
  }
}
