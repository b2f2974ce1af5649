package org.factrl.data.shapes;

/** Object colours, with their word and the RGB they are rendered in. */
public enum Colour {
  RED("red", 0xE0, 0x2B, 0x2B),
  GREEN("green", 0x2E, 0xA0, 0x3C),
  BLUE("blue", 0x2B, 0x55, 0xE0),
  YELLOW("yellow", 0xF2, 0xD0, 0x1E),
  PURPLE("purple", 0x8E, 0x3C, 0xC8),
  ORANGE("orange", 0xF2, 0x85, 0x1E);

  private final String word;
  private final int r;
  private final int g;
  private final int b;

  Colour(String word, int r, int g, int b) {
    this.word = word;
    this.r = r;
    this.g = g;
    this.b = b;
  }

  public String word() {
    return word;
  }

  public int red() {
    return r;
  }

  public int green() {
    return g;
  }

  public int blue() {
    return b;
  }
}
