package org.factrl.cli;

import com.google.gson.JsonObject;
import org.factrl.data.format.JsonRecords;
import org.factrl.eval.EvalConfig;
import org.factrl.ppo.PpoConfig;
import org.factrl.stages.RmConfig;
import org.factrl.stages.SftConfig;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code bin/factrl config --stage S}: prints stage S's default config file, every key with its
 * default ({@link org.factrl.train.RecipeDefaults}), in the format {@code --config} reads: edit a
 * copy and pass it back.
 */
@Command(name = "config", description = "print a stage's default config file (JSON) to edit and pass back with "
      + "--config")
final class ConfigCommand extends FactrlCommand {
  @Option(names = "--stage", paramLabel = "sft|rm|ppo|eval", required = true,
      description = "the stage whose defaults to print: sft, rm, ppo or eval")
  String stage;

  @Override
  int run() {
    out.println(JsonRecords.toPrettyJson(defaults(stage)));
    return 0;
  }

  /** The stage's default config as written to disk. */
  static JsonObject defaults(String stage) {
    return switch (stage) {
      case "sft" -> SftConfig.defaults().toJson();
      case "rm" -> RmConfig.defaults().toJson();
      case "ppo" -> PpoConfig.defaults().toJson();
      case "eval" -> EvalConfig.defaults().toJson();
      default -> throw new UsageException("--stage must be sft, rm, ppo or eval, got '" + stage + "'");
    };
  }
}
