package org.factrl.data.shapes;

import com.google.common.base.Preconditions;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import org.factrl.engine.FactRlException;
import org.lwjgl.stb.STBIWriteCallback;
import org.lwjgl.stb.STBImageWrite;
import org.lwjgl.system.MemoryUtil;

/**
 * Encodes packed RGB bytes as PNG with stb_image_write (through LWJGL). Encoding goes to memory
 * first, so a failed write reports the file through Java's I/O error rather than stb's bare
 * {@code false}. Thread-safe: every call uses its own native buffer and callback, freed before it
 * returns.
 */
public final class PngWriter {
  private PngWriter() {}

  /** PNG bytes of an RGB image ({@code width * height * 3} bytes, rows top first). */
  public static byte[] encode(byte[] rgb, int width, int height) {
    Preconditions.checkArgument(width > 0 && height > 0, "bad image size %sx%s", width, height);
    Preconditions.checkArgument(rgb.length == width * height * 3,
        "expected %s RGB bytes for %sx%s, got %s", width * height * 3, width, height, rgb.length);
    ByteArrayOutputStream out = new ByteArrayOutputStream(rgb.length / 2 + 64);
    ByteBuffer pixels = MemoryUtil.memAlloc(rgb.length);
    STBIWriteCallback sink = STBIWriteCallback.create((context, data, size) -> {
      ByteBuffer chunk = STBIWriteCallback.getData(data, size);
      byte[] bytes = new byte[size];
      chunk.get(bytes);
      out.write(bytes, 0, size);
    });
    try {
      pixels.put(rgb).flip();
      if (!STBImageWrite.stbi_write_png_to_func(sink, 0L, width, height, 3, pixels, width * 3)) {
        throw new FactRlException("PNG encoding failed for a " + width + "x" + height + " image");
      }
    } finally {
      sink.free();
      MemoryUtil.memFree(pixels);
    }
    return out.toByteArray();
  }

  /** Writes an RGB image as a PNG file, creating parent folders; errors name the file. */
  public static void write(Path file, byte[] rgb, int width, int height) {
    byte[] png;
    try {
      png = encode(rgb, width, height);
    } catch (FactRlException | IllegalArgumentException e) {
      throw new FactRlException(file + ": " + e.getMessage(), e);
    }
    try {
      Path parent = file.toAbsolutePath().getParent();
      if (parent != null) {
        Files.createDirectories(parent);
      }
      Files.write(file, png);
    } catch (IOException e) {
      throw new FactRlException(file + ": cannot write PNG: " + e, e);
    }
  }

  /** Renders a scene at {@code size} pixels a side and writes it as PNG. */
  public static void write(Path file, Scene scene, int size) {
    write(file, SceneRenderer.render(scene, size), size, size);
  }
}
