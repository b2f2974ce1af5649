package org.factrl.data.shapes;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import org.factrl.engine.FactRlException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.lwjgl.stb.STBImage;
import org.lwjgl.system.MemoryUtil;

class PngWriterTest {
  @TempDir Path dir;

  @Test
  void encodedPngDecodesToTheSamePixels() {
    for (Scene s : SceneGenerator.withSeed(8).scenes(0, 10)) {
      byte[] rgb = SceneRenderer.render(s, 64);
      byte[] png = PngWriter.encode(rgb, 64, 64);
      assertEquals((byte) 0x89, png[0]);
      assertEquals('P', png[1]);
      assertArrayEquals(rgb, decode(png, 64, 64));
    }
    byte[] wide = SceneRenderer.render(SceneGenerator.withSeed(8).scene(0), 48, 20);
    assertArrayEquals(wide, decode(PngWriter.encode(wide, 48, 20), 48, 20));
  }

  @Test
  void writtenFileLoadsThroughStb() throws Exception {
    Scene s = SceneGenerator.withSeed(8).scene(3);
    Path file = dir.resolve("sub/folder/" + s.image());
    PngWriter.write(file, s, 64);
    assertTrue(Files.size(file) > 100);
    int[] w = new int[1];
    int[] h = new int[1];
    int[] c = new int[1];
    ByteBuffer pixels = STBImage.stbi_load(file.toString(), w, h, c, 3);
    assertNotNull(pixels, STBImage.stbi_failure_reason());
    try {
      assertEquals(64, w[0]);
      assertEquals(64, h[0]);
      assertEquals(3, c[0]);
      byte[] got = new byte[64 * 64 * 3];
      pixels.get(0, got); // absolute: stbi_image_free frees from the position
      assertArrayEquals(SceneRenderer.render(s, 64), got);
      // Spot check: the object's centre pixel has its colour after the round trip.
      SceneObject o = s.objects().get(s.objects().size() - 1);
      int i = ((int) (o.y() * 64) * 64 + (int) (o.x() * 64)) * 3;
      assertEquals(o.colour().red(), got[i] & 0xFF);
      assertEquals(o.colour().green(), got[i + 1] & 0xFF);
      assertEquals(o.colour().blue(), got[i + 2] & 0xFF);
    } finally {
      STBImage.stbi_image_free(pixels);
    }
  }

  @Test
  void failuresNameTheFile() throws Exception {
    Path blocker = dir.resolve("not-a-folder");
    Files.writeString(blocker, "x");
    Path file = blocker.resolve("image.png");
    FactRlException e = assertThrows(FactRlException.class,
        () -> PngWriter.write(file, new byte[4 * 4 * 3], 4, 4));
    assertTrue(e.getMessage().startsWith(file.toString()), e.getMessage());
    FactRlException size = assertThrows(FactRlException.class,
        () -> PngWriter.write(dir.resolve("short.png"), new byte[5], 4, 4));
    assertTrue(size.getMessage().contains("short.png") && size.getMessage().contains("48"), size.getMessage());
    assertThrows(IllegalArgumentException.class, () -> PngWriter.encode(new byte[5], 4, 4));
  }

  static byte[] decode(byte[] png, int width, int height) {
    ByteBuffer in = MemoryUtil.memAlloc(png.length);
    int[] w = new int[1];
    int[] h = new int[1];
    int[] c = new int[1];
    try {
      in.put(png).flip();
      ByteBuffer pixels = STBImage.stbi_load_from_memory(in, w, h, c, 3);
      assertNotNull(pixels, STBImage.stbi_failure_reason());
      try {
        assertEquals(width, w[0]);
        assertEquals(height, h[0]);
        byte[] out = new byte[width * height * 3];
        pixels.get(0, out); // absolute: stbi_image_free frees from the position
        return out;
      } finally {
        STBImage.stbi_image_free(pixels);
      }
    } finally {
      MemoryUtil.memFree(in);
    }
  }
}
