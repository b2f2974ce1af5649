package org.factrl.data.shapes.tasks;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.factrl.data.shapes.SceneGenerator;
import org.factrl.data.shapes.SceneRenderer;
import org.factrl.data.shapes.tasks.ShapesDataSet.Split;
import org.junit.jupiter.api.Test;

class ShapesDataSetTest {
  @Test
  void splitsAreContiguousAndCoverEveryScene() {
    ShapesDataSet d = ShapesDataSet.builder().seed(3).scenes(101).build();
    assertEquals(101, d.size());
    assertEquals(51, d.scenes(Split.SFT).size()); // round(50.5)
    assertEquals(20, d.scenes(Split.RM).size());
    assertEquals(20, d.scenes(Split.RL).size());
    assertEquals(10, d.scenes(Split.EVAL).size());
    int index = 0;
    for (Split s : Split.values()) {
      assertEquals(index, d.start(s));
      for (int i = 0; i < d.scenes(s).size(); i++, index++) {
        assertEquals(s, d.splitOf(index));
        assertEquals(d.scene(index), d.scenes(s).get(i));
      }
    }
    assertEquals(101, index);
    assertThrows(IndexOutOfBoundsException.class, () -> d.splitOf(101));
  }

  @Test
  void scenesTasksAndImagesComeFromTheGenerators() {
    SceneGenerator g = SceneGenerator.builder().seed(5).imageSize(32).build();
    TaskGenerator t = TaskGenerator.withSeed(6);
    ShapesDataSet d = ShapesDataSet.builder().sceneGenerator(g).taskGenerator(t).scenes(40)
        .fractions(0.25, 0.25, 0.25, 0.25).build();
    assertEquals(g.scenes(0, 40), d.scenes());
    assertEquals(ObjectStatistics.of(g.scenes(0, 40)), d.statistics());
    assertEquals(t.generate(g.scene(17), d.statistics()), d.tasks(17));
    assertArrayEquals(SceneRenderer.render(g.scene(17), 32), d.image(17));
    assertEquals(10, d.scenes(Split.EVAL).size());
  }

  @Test
  void badFractionsAreRejected() {
    assertThrows(IllegalArgumentException.class, () -> ShapesDataSet.builder().fractions(0.5, 0.5, 0.5, 0));
    assertThrows(IllegalArgumentException.class, () -> ShapesDataSet.builder().fractions(1.5, -0.5, 0, 0));
    assertThrows(IllegalArgumentException.class, () -> ShapesDataSet.builder().scenes(0));
  }
}
