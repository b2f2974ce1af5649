package org.factrl.data.shapes;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.common.collect.ImmutableList;
import java.util.EnumSet;
import java.util.Set;
import org.junit.jupiter.api.Test;

class SceneGeneratorTest {
  @Test
  void sameSeedGivesSameScenesWhateverElseIsGenerated() {
    SceneGenerator a = SceneGenerator.withSeed(42);
    SceneGenerator b = SceneGenerator.withSeed(42);
    ImmutableList<Scene> range = a.scenes(0, 50);
    assertEquals(range, b.scenes(0, 50));
    // Scene i depends only on (seed, i): generated alone, out of order, or in another range.
    assertEquals(range.get(37), b.scene(37));
    assertEquals(range.subList(10, 20), a.scenes(10, 10));
    assertEquals("shapes-000037", range.get(37).id());
    assertEquals("shapes-000037.png", range.get(37).image());
  }

  @Test
  void differentSeedsGiveDifferentScenes() {
    ImmutableList<Scene> a = SceneGenerator.withSeed(1).scenes(0, 20);
    ImmutableList<Scene> b = SceneGenerator.withSeed(2).scenes(0, 20);
    int same = 0;
    for (int i = 0; i < 20; i++) {
      if (a.get(i).equals(b.get(i))) {
        same++;
      }
    }
    assertEquals(0, same);
    assertNotEquals(a.get(0), a.get(1));
  }

  @Test
  void objectsStayInsideTheImageAndApart() {
    for (Scene s : SceneGenerator.withSeed(5).scenes(0, 2000)) {
      assertTrue(s.objects().size() >= 1 && s.objects().size() <= 8, s.toString());
      for (SceneObject o : s.objects()) {
        double r = o.size().radius();
        assertTrue(o.x() - r >= -1e-12 && o.x() + r <= 1 + 1e-12, o.toString());
        assertTrue(o.y() - r >= -1e-12 && o.y() + r <= 1 + 1e-12, o.toString());
        assertEquals(o.x(), Math.round(o.x() * 1000) / 1000.0, 0.0, "positions are rounded to 1/1000");
        for (SceneObject p : s.objects()) {
          if (p.id() < o.id()) {
            double d = Math.hypot(o.x() - p.x(), o.y() - p.y());
            assertTrue(d >= SceneGenerator.MIN_SEPARATION * (r + p.size().radius()) - 1e-12,
                s.id() + ": objects " + p.id() + " and " + o.id() + " overlap heavily");
          }
        }
      }
      for (int i = 0; i < s.objects().size(); i++) {
        assertEquals(i, s.objects().get(i).id(), "object ids are 0..n-1");
      }
    }
  }

  @Test
  void countsVaryAndKindsRepeatSoCountingIsInteresting() {
    int[] sizes = new int[9];
    int withRepeat = 0;
    int withThreeOfAKind = 0;
    Set<Environment> seen = EnumSet.noneOf(Environment.class);
    ImmutableList<Scene> scenes = SceneGenerator.withSeed(9).scenes(0, 2000);
    for (Scene s : scenes) {
      sizes[s.objects().size()]++;
      seen.add(s.environment());
      int most = 0;
      for (SceneObject o : s.objects()) {
        most = Math.max(most, s.count(o.shape(), o.colour(), null));
      }
      withRepeat += most >= 2 ? 1 : 0;
      withThreeOfAKind += most >= 3 ? 1 : 0;
    }
    for (int n = 1; n <= 8; n++) {
      assertTrue(sizes[n] > 100, "scenes with " + n + " objects: " + sizes[n]);
    }
    assertEquals(EnumSet.allOf(Environment.class), seen);
    assertTrue(withRepeat > 0.4 * scenes.size(), "scenes with a repeated kind: " + withRepeat);
    assertTrue(withThreeOfAKind > 0.1 * scenes.size(), "scenes with three of a kind: " + withThreeOfAKind);
  }

  @Test
  void builderOptionsAreHonoured() {
    SceneGenerator g = SceneGenerator.builder().seed(3).objects(2, 3).imageSize(32)
        .environments(Environment.SNOW, Environment.NIGHT).idPrefix("t").build();
    assertEquals(32, g.imageSize());
    assertEquals(ImmutableList.of(Environment.SNOW, Environment.NIGHT), g.environments());
    for (Scene s : g.scenes(0, 300)) {
      assertTrue(s.objects().size() >= 2 && s.objects().size() <= 3);
      assertTrue(s.environment() == Environment.SNOW || s.environment() == Environment.NIGHT);
      assertTrue(s.id().startsWith("t-"));
    }
    // With repeats off, duplicates only by chance: far fewer than with the default.
    SceneGenerator noRepeat = SceneGenerator.builder().seed(3).objects(8, 8).repeatProbability(0).build();
    SceneGenerator repeat = SceneGenerator.builder().seed(3).objects(8, 8).repeatProbability(0.9).build();
    assertTrue(distinctKinds(noRepeat) > distinctKinds(repeat) + 1000);
  }

  private static int distinctKinds(SceneGenerator g) {
    int n = 0;
    for (Scene s : g.scenes(0, 500)) {
      n += (int) s.objects().stream().map(ObjectKind::of).distinct().count();
    }
    return n;
  }

  @Test
  void builderRejectsBadOptions() {
    assertThrows(IllegalArgumentException.class, () -> SceneGenerator.builder().objects(0, 3));
    assertThrows(IllegalArgumentException.class, () -> SceneGenerator.builder().objects(4, 3));
    assertThrows(IllegalArgumentException.class, () -> SceneGenerator.builder().objects(1, 9));
    assertThrows(IllegalArgumentException.class, () -> SceneGenerator.builder().imageSize(8));
    assertThrows(IllegalArgumentException.class, () -> SceneGenerator.builder().environments(Set.of()));
    assertThrows(IllegalArgumentException.class, () -> SceneGenerator.builder().repeatProbability(1.5));
    assertThrows(IllegalArgumentException.class, () -> SceneGenerator.builder().idPrefix("a/b"));
    assertThrows(IllegalArgumentException.class, () -> SceneGenerator.withSeed(0).scene(-1));
  }
}
