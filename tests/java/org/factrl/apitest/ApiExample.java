package org.factrl.apitest;

// The README's "Java embedding API" example, verbatim between the markers (EmbeddingApiTest checks
// that the README still shows exactly this code, so the README's example always compiles).
// README-EXAMPLE-BEGIN
import java.nio.file.Path;
import java.util.List;
import org.factrl.api.FactRl;
import org.factrl.api.Generation;
import org.factrl.api.Metrics;
import org.factrl.api.Model;
import org.factrl.api.RewardModel;
import org.factrl.stages.BaseModel;
import org.factrl.stages.RmConfig;
import org.factrl.stages.RmStage;
import org.factrl.stages.SftConfig;
import org.factrl.stages.SftStage;

public final class ApiExample {
  /** SFT, then a reward model, on a data set; answers and scores a question; reads the SFT curves. */
  public static void run(Path data, BaseModel base, SftConfig sftConfig, RmConfig rmConfig, Path runs) {
    SftStage.run(sftConfig, data, base, runs.resolve("sft"));
    RmStage.run(rmConfig, data, runs.resolve("sft"), runs.resolve("rm"));

    Path image = data.resolve("images").resolve("shapes-000000.png");
    String question = "What colour is the circle?";
    try (Model model = FactRl.loadModel(runs.resolve("sft"), data.resolve("tokenizer.json"))) {
      Generation answer = model.generate(image, question);
      System.out.println(answer.text() + "  (log-likelihood " + answer.logLikelihood() + ")");
      try (RewardModel rm = RewardModel.load(runs.resolve("rm"))) {
        double score = rm.score(image, question, answer.text(), List.of("A red circle on a white background."));
        System.out.println("reward " + score);
      }
    }

    Metrics sft = Metrics.read(runs.resolve("sft").resolve("metrics.jsonl"));
    System.out.println("last SFT loss " + sft.last("loss").orElseThrow());
    sft.plot(runs.resolve("sft-plots"));
  }
}
// README-EXAMPLE-END
