package org.factrl.data.shapes.tasks;

import com.google.common.collect.ImmutableList;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import org.factrl.data.shapes.ObjectKind;
import org.factrl.data.shapes.Relation;
import org.factrl.data.shapes.Scene;
import org.factrl.data.shapes.SceneObject;
import org.factrl.data.shapes.Words;

/**
 * What the task writers need to know about one scene, computed once: present and absent kinds,
 * unambiguous ways to name an object, and the relations that hold between nameable objects. Every
 * fact here is read off the scene (counts through {@link Scene#count}, relations through {@link
 * Relation#holds}), so text built from it is true by construction.
 */
final class SceneFacts {
  /** A relation that holds: {@code a} is {@code relation} {@code b}. */
  record Fact(SceneObject a, SceneObject b, Relation relation) {
    /** "The small blue square is to the left of the large yellow star." */
    String sentence() {
      return "The " + a.phrase() + " is " + relation.phrase() + " the " + b.phrase() + ".";
    }
  }

  final Scene scene;
  /** Distinct kinds present, in order of first appearance. */
  final ImmutableList<ObjectKind> present;
  /** Kinds absent, in canonical order. */
  final ImmutableList<ObjectKind> absent;
  /** For each pair (i < j) of objects that both have a unique full phrase: one relation that holds
   *  (left/right preferred over above/below); pairs in no relation are left out. */
  final ImmutableList<Fact> facts;

  SceneFacts(Scene scene) {
    this.scene = scene;
    Set<ObjectKind> seen = new LinkedHashSet<>();
    for (SceneObject o : scene.objects()) {
      seen.add(ObjectKind.of(o));
    }
    this.present = ImmutableList.copyOf(seen);
    this.absent = ObjectKind.all().stream().filter(k -> !seen.contains(k)).collect(ImmutableList.toImmutableList());
    List<Fact> f = new ArrayList<>();
    ImmutableList<SceneObject> objects = scene.objects();
    for (int i = 0; i < objects.size(); i++) {
      for (int j = i + 1; j < objects.size(); j++) {
        SceneObject a = objects.get(i);
        SceneObject b = objects.get(j);
        if (!uniquelyNamed(a) || !uniquelyNamed(b)) {
          continue;
        }
        for (Relation r : Relation.values()) {
          if (r.holds(a, b)) {
            f.add(new Fact(a, b, r));
            break;
          }
        }
      }
    }
    this.facts = ImmutableList.copyOf(f);
  }

  int count(ObjectKind k) {
    return scene.count(k.shape(), k.colour(), null);
  }

  /** True when no other object has the same size, colour and shape. */
  boolean uniquelyNamed(SceneObject o) {
    return scene.count(o.shape(), o.colour(), o.size()) == 1;
  }

  /**
   * The shortest phrase naming {@code o} alone ("star", "red circle", "small square", "small red
   * circle"), leaving out the colour when {@code withoutColour}; empty when none is unique.
   */
  Optional<String> name(SceneObject o, boolean withoutColour) {
    if (scene.count(o.shape(), null, null) == 1) {
      return Optional.of(o.shape().singular());
    }
    if (!withoutColour && scene.count(o.shape(), o.colour(), null) == 1) {
      return Optional.of(o.colour().word() + " " + o.shape().singular());
    }
    if (scene.count(o.shape(), null, o.size()) == 1) {
      return Optional.of(o.size().word() + " " + o.shape().singular());
    }
    if (!withoutColour && uniquelyNamed(o)) {
      return Optional.of(o.phrase());
    }
    return Optional.empty();
  }

  /** A phrase naming {@code o} alone without its shape ("green object"), if there is one. */
  Optional<String> nameWithoutShape(SceneObject o) {
    if (scene.count(null, o.colour(), null) == 1) {
      return Optional.of(o.colour().word() + " object");
    }
    if (scene.count(null, o.colour(), o.size()) == 1) {
      return Optional.of(o.size().word() + " " + o.colour().word() + " object");
    }
    return Optional.empty();
  }

  /** MMHal's image content: each object's phrase, then the environment. */
  ImmutableList<String> imageContent() {
    ImmutableList.Builder<String> b = ImmutableList.builder();
    for (SceneObject o : scene.objects()) {
      b.add(o.phrase());
    }
    return b.add(scene.environment().phrase()).build();
  }

  /** Where in the image an object is, by thirds: "top left", "centre", "bottom", ... */
  static String position(SceneObject o) {
    String v = o.y() < 1.0 / 3 ? "top" : o.y() > 2.0 / 3 ? "bottom" : "";
    String h = o.x() < 1.0 / 3 ? "left" : o.x() > 2.0 / 3 ? "right" : "";
    if (v.isEmpty() && h.isEmpty()) {
      return "centre";
    }
    return v.isEmpty() ? h : h.isEmpty() ? v : v + " " + h;
  }

  /** "in the top left of the image", "on the left of the image", "at the top of the image". */
  static String where(SceneObject o) {
    String p = position(o);
    String preposition = p.equals("left") || p.equals("right") ? "on" : p.equals("top") || p.equals("bottom") ? "at" : "in";
    return preposition + " the " + p + " of the image";
  }

  /** "two circles, one square and one star" — per shape, numbers as words, in first-seen order. */
  String shapeCounts() {
    List<String> parts = new ArrayList<>();
    Set<Object> done = new LinkedHashSet<>();
    for (SceneObject o : scene.objects()) {
      if (done.add(o.shape())) {
        int n = scene.count(o.shape(), null, null);
        parts.add(Words.number(n) + " " + o.shape().noun(n));
      }
    }
    return Words.join(parts);
  }

  /** "a red circle, two blue squares and an orange star" — per kind, in first-seen order. */
  String kindList() {
    List<String> parts = new ArrayList<>();
    for (ObjectKind k : present) {
      parts.add(Words.counted(count(k), k.colour().word(), k.shape()));
    }
    return Words.join(parts);
  }

  /** "two small red circles, a large blue square" — every object, grouped by its full phrase. */
  String objectList() {
    List<String> parts = new ArrayList<>();
    Set<String> done = new LinkedHashSet<>();
    for (SceneObject o : scene.objects()) {
      if (done.add(o.phrase())) {
        int n = scene.count(o.shape(), o.colour(), o.size());
        parts.add(Words.counted(n, o.size().word() + " " + o.colour().word(), o.shape()));
      }
    }
    return Words.join(parts);
  }

  /** "There is one object" / "There are five objects". */
  String objectTotal() {
    int n = scene.objects().size();
    return n == 1 ? "There is one object" : "There are " + Words.number(n) + " objects";
  }
}
