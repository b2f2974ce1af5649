package org.factrl.data.judge;

import org.factrl.data.shapes.Relation;
import org.factrl.data.shapes.SceneObject;

/**
 * A part of the picture an answer places an object in ("in the top-left corner", "at the bottom",
 * "on the right side of the image"), decided from the object's centre (x, y), both in [0, 1], y
 * growing downwards. The regions (agreed with the independent test set):
 * <ul>
 *   <li>thirds: left x &lt; 1/3, right x &gt; 2/3, horizontal middle otherwise; top y &lt; 1/3,
 *       bottom y &gt; 2/3, vertical middle otherwise;
 *   <li>"in the middle / centre": both middles; "top-left corner" (also "upper left", "top left"):
 *       top third and left third, and so on for the other corners; "top centre": top third and
 *       horizontal middle; "the left third": x &lt; 1/3 (and so on); "in the middle
 *       horizontally / vertically": that axis's middle only;
 *   <li>halves: "on the left / right (side)": x &lt; 0.5 / x &gt; 0.5; "at the top / bottom", "in
 *       the upper / lower half": y &lt; 0.5 / y &gt; 0.5.
 * </ul>
 * Tolerance: an object within {@link #TOLERANCE} of a boundary satisfies either side of it, so a
 * claim is a hallucination only when the object is more than 0.05 outside the region, and its
 * denial only when the object is more than 0.05 inside.
 */
public enum Region {
  TOP_LEFT("in the top-left corner", 0, 1.0 / 3, 0, 1.0 / 3),
  TOP_RIGHT("in the top-right corner", 2.0 / 3, 1, 0, 1.0 / 3),
  BOTTOM_LEFT("in the bottom-left corner", 0, 1.0 / 3, 2.0 / 3, 1),
  BOTTOM_RIGHT("in the bottom-right corner", 2.0 / 3, 1, 2.0 / 3, 1),
  TOP_CENTRE("at the top centre", 1.0 / 3, 2.0 / 3, 0, 1.0 / 3),
  BOTTOM_CENTRE("at the bottom centre", 1.0 / 3, 2.0 / 3, 2.0 / 3, 1),
  CENTRE("in the middle", 1.0 / 3, 2.0 / 3, 1.0 / 3, 2.0 / 3),
  LEFT_THIRD("in the left third", 0, 1.0 / 3, 0, 1),
  RIGHT_THIRD("in the right third", 2.0 / 3, 1, 0, 1),
  TOP_THIRD("in the top third", 0, 1, 0, 1.0 / 3),
  BOTTOM_THIRD("in the bottom third", 0, 1, 2.0 / 3, 1),
  MIDDLE_COLUMN("in the middle horizontally", 1.0 / 3, 2.0 / 3, 0, 1),
  MIDDLE_ROW("in the middle vertically", 0, 1, 1.0 / 3, 2.0 / 3),
  LEFT_SIDE("on the left side", 0, 0.5, 0, 1),
  RIGHT_SIDE("on the right side", 0.5, 1, 0, 1),
  TOP_HALF("at the top", 0, 1, 0, 0.5),
  BOTTOM_HALF("at the bottom", 0, 1, 0.5, 1);

  /** Distance from a boundary within which an object counts as on either side. */
  public static final double TOLERANCE = 0.05;

  private final String phrase;
  private final double x0;
  private final double x1;
  private final double y0;
  private final double y1;

  Region(String phrase, double x0, double x1, double y0, double y1) {
    this.phrase = phrase;
    this.x0 = x0;
    this.x1 = x1;
    this.y0 = y0;
    this.y1 = y1;
  }

  public String phrase() {
    return phrase;
  }

  /** Whether {@code o}'s centre is in the region widened by the tolerance. */
  public boolean mayContain(SceneObject o) {
    return inside(o, TOLERANCE);
  }

  /** Whether {@code o}'s centre is in the region narrowed by the tolerance. */
  public boolean surelyContains(SceneObject o) {
    return inside(o, -TOLERANCE);
  }

  private boolean inside(SceneObject o, double slack) {
    // a boundary at the picture's edge has nothing beyond it
    boolean xOk = (x0 <= 0 || o.x() >= x0 - slack) && (x1 >= 1 || o.x() <= x1 + slack);
    boolean yOk = (y0 <= 0 || o.y() >= y0 - slack) && (y1 >= 1 || o.y() <= y1 + slack);
    return xOk && yOk;
  }

  /** The side a relation word names when an answer gives no second object ("on the left"). */
  static Region ofSide(Relation r) {
    return switch (r) {
      case LEFT_OF -> LEFT_SIDE;
      case RIGHT_OF -> RIGHT_SIDE;
      case ABOVE -> TOP_HALF;
      case BELOW -> BOTTOM_HALF;
    };
  }
}
