package org.factrl.data.text;

import com.google.common.collect.ImmutableList;

/** The special tokens FactRL's chat template and the shapes tokenizer use (Llama/Vicuna names). */
public final class SpecialTokens {
  public static final String BOS = "<s>";
  public static final String EOS = "</s>";
  public static final String UNK = "<unk>";
  public static final String PAD = "<pad>";
  /** The image placeholder; one token, never split (see {@link org.factrl.data.format.Conversations}). */
  public static final String IMAGE = "<image>";

  /** All of them, in the id order the shapes tokenizer gives them (0..4). */
  public static final ImmutableList<String> ALL = ImmutableList.of(UNK, BOS, EOS, PAD, IMAGE);

  private SpecialTokens() {}
}
