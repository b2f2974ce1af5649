package org.factrl.data.dataset;

import com.google.common.base.Preconditions;
import java.nio.file.Files;
import java.nio.file.Path;
import org.factrl.data.PopeSampling;

/**
 * Where each file of a data set folder lives. One folder holds a whole data set:
 *
 * <pre>
 * manifest.json            what made it (format marker, generator settings, splits), every file's record count
 * SHA256SUMS               every other file's SHA-256 (sha256sum format); proves the folder is ours ({@link OwnedFolder})
 * annotations.json         the ground truth of every scene (SceneJson), all the judge reads
 * images/&lt;scene&gt;.png       one image per scene
 * pretrain.json            image-caption conversations    (SFT split; one-object scenes first)
 * sft.json                 LLaVA conversations            (SFT split)
 * preferences.json         pairwise preferences           (reward-model split)
 * rl_prompts.json          RL prompts with facts          (RL split)
 * mmhal_eval.json          MMHal response template        (eval split)
 * pope_random.json, pope_popular.json, pope_adversarial.json   POPE probes, JSON Lines (eval split)
 * tokenizer.json           the data set's own HF tokenizer
 * </pre>
 *
 * Image paths inside records are relative to {@link #images()}, as LLaVA's {@code image_folder}.
 */
public record DataSetFiles(Path root) {
  public DataSetFiles {
    Preconditions.checkNotNull(root, "root");
  }

  public static DataSetFiles in(Path root) {
    return new DataSetFiles(root);
  }

  public Path manifest() {
    return root.resolve("manifest.json");
  }

  /** Every file but the manifest, with its SHA-256 ({@code sha256sum -c SHA256SUMS} checks them). */
  public Path fileList() {
    return root.resolve(OwnedFolder.FILE_LIST);
  }

  public Path annotations() {
    return root.resolve("annotations.json");
  }

  public Path images() {
    return root.resolve("images");
  }

  /** An image named in a record ({@code image} field, relative to the image folder). */
  public Path image(String relative) {
    return images().resolve(relative);
  }

  /** Image–caption pairs for the pretraining and projector-alignment stages (LLaVA conversations). */
  public Path pretrain() {
    return root.resolve("pretrain.json");
  }

  public Path sft() {
    return root.resolve("sft.json");
  }

  public Path preferences() {
    return root.resolve("preferences.json");
  }

  public Path rlPrompts() {
    return root.resolve("rl_prompts.json");
  }

  public Path mmhal() {
    return root.resolve("mmhal_eval.json");
  }

  public Path pope(PopeSampling sampling) {
    return root.resolve("pope_" + sampling.key() + ".json");
  }

  public Path tokenizer() {
    return root.resolve("tokenizer.json");
  }

  /** Whether {@code root} holds a finished data set (the manifest is written last). */
  public boolean isComplete() {
    return Files.isRegularFile(manifest());
  }
}
