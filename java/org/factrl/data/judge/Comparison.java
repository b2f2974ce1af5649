package org.factrl.data.judge;

/** Comparisons between two described things: sizes of objects or counts of objects. */
public enum Comparison {
  LARGER("larger than", false),
  SMALLER("smaller than", false),
  SAME_SIZE("the same size as", false),
  MORE("more", true),
  FEWER("fewer", true),
  SAME_NUMBER("as many", true);

  private final String phrase;
  private final boolean ofCounts;

  Comparison(String phrase, boolean ofCounts) {
    this.phrase = phrase;
    this.ofCounts = ofCounts;
  }

  public String phrase() {
    return phrase;
  }

  /** True for comparisons of how many objects match (MORE, FEWER, SAME_NUMBER). */
  public boolean ofCounts() {
    return ofCounts;
  }
}
