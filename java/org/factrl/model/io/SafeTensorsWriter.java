package org.factrl.model.io;

import com.google.gson.stream.JsonWriter;
import java.io.IOException;
import java.io.StringWriter;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import org.bytedeco.javacpp.FloatPointer;
import org.factrl.engine.DType;
import org.factrl.engine.FactRlException;
import org.factrl.engine.Tensor;

/**
 * Writes safetensors files the way the reference implementation does — header padded with spaces
 * to a multiple of 8 bytes (so the data buffer is 8-byte aligned), tensors in the given order,
 * back to back — through {@link AtomicWrite}, so never a half-written file.
 */
final class SafeTensorsWriter {
  private SafeTensorsWriter() {}

  static void write(Path file, Map<String, Tensor> tensors, Map<String, String> metadata, IfExists ifExists) {
    write(file, tensors, metadata, ifExists, false);
  }

  /**
   * As above; with {@code f32AsBf16} every F32 tensor is stored as BF16 (round to nearest even,
   * as torch's {@code .to(bfloat16)}), halving the file — for small bases meant to be committed.
   */
  static void write(Path file, Map<String, Tensor> tensors, Map<String, String> metadata, IfExists ifExists,
      boolean f32AsBf16) {
    Objects.requireNonNull(file, "file");
    Objects.requireNonNull(tensors, "tensors");
    Objects.requireNonNull(metadata, "metadata");
    Objects.requireNonNull(ifExists, "ifExists");
    byte[] header = header(file, tensors, metadata, f32AsBf16);
    AtomicWrite.write(file, ifExists, ch -> {
      writeFully(ch, ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(0, header.length));
      writeFully(ch, ByteBuffer.wrap(header));
      for (Tensor t : tensors.values()) {
        writeData(ch, t, f32AsBf16 && t.dtype() == DType.F32);
      }
    });
  }

  /** The JSON header, padded with spaces to a multiple of 8 bytes. */
  static byte[] header(Path file, Map<String, Tensor> tensors, Map<String, String> metadata) {
    return header(file, tensors, metadata, false);
  }

  static byte[] header(Path file, Map<String, Tensor> tensors, Map<String, String> metadata, boolean f32AsBf16) {
    StringWriter out = new StringWriter();
    try (JsonWriter w = new JsonWriter(out)) {
      w.setHtmlSafe(false);
      w.beginObject();
      if (!metadata.isEmpty()) {
        w.name(SafeTensorsHeader.METADATA).beginObject();
        // in key order: the file's bytes must not depend on a map's iteration order (Map.of's is
        // salted per JVM, so a checkpoint written by a resumed run differed from an uninterrupted one's)
        for (String key : metadata.keySet()) {
          Objects.requireNonNull(key, "metadata key");
        }
        for (Map.Entry<String, String> m : new TreeMap<>(metadata).entrySet()) {
          w.name(m.getKey())
              .value(Objects.requireNonNull(m.getValue(), "metadata value of '" + m.getKey() + "'"));
        }
        w.endObject();
      }
      long offset = 0;
      for (Map.Entry<String, Tensor> e : tensors.entrySet()) {
        String name = e.getKey();
        Tensor t = e.getValue();
        if (name == null || name.isEmpty() || name.equals(SafeTensorsHeader.METADATA)) {
          throw new FactRlException(file + ": cannot write a tensor named '" + name + "'");
        }
        if (t == null || t.isClosed()) {
          throw new FactRlException(file + ": tensor '" + name + "' is " + (t == null ? "null" : "closed"));
        }
        DType stored = f32AsBf16 && t.dtype() == DType.F32 ? DType.BF16 : t.dtype();
        long bytes = t.numel() * stored.bytes();
        w.name(name).beginObject();
        w.name("dtype").value(SafeTensorsDType.of(stored).name());
        w.name("shape").beginArray();
        for (long d : t.shape()) {
          w.value(d);
        }
        w.endArray();
        w.name("data_offsets").beginArray().value(offset).value(offset + bytes).endArray();
        w.endObject();
        offset += bytes;
      }
      w.endObject();
    } catch (IOException e) {
      throw new AssertionError("a StringWriter does not fail", e);
    }
    StringBuilder text = new StringBuilder(out.toString());
    byte[] utf8 = text.toString().getBytes(StandardCharsets.UTF_8);
    int pad = (8 - utf8.length % 8) % 8;
    text.append(" ".repeat(pad));
    return text.toString().getBytes(StandardCharsets.UTF_8);
  }

  /** Appends the tensor's elements, row-major little-endian, in chunks. */
  private static void writeData(FileChannel ch, Tensor t, boolean narrow) throws IOException {
    long numel = t.numel();
    if (numel == 0) {
      return;
    }
    if (t.dtype() == DType.I32) {
      int[] values = t.toIntArray();
      ByteBuffer buf = ByteBuffer.allocate(values.length * 4).order(ByteOrder.LITTLE_ENDIAN);
      buf.asIntBuffer().put(values);
      writeFully(ch, buf);
      return;
    }
    SafeTensors.requireLittleEndianHost();
    int chunk = (int) Math.min(SafeTensors.CHUNK_ELEMENTS, numel);
    ByteBuffer floats = ByteBuffer.allocateDirect(chunk * 4).order(ByteOrder.nativeOrder());
    ByteBuffer halves = t.dtype() == DType.BF16 || narrow ? ByteBuffer.allocateDirect(chunk * 2).order(ByteOrder.LITTLE_ENDIAN) : null;
    try (FloatPointer p = new FloatPointer(floats.asFloatBuffer())) {
      for (long done = 0; done < numel; done += chunk) {
        int n = (int) Math.min(chunk, numel - done);
        p.position(0).limit(n);
        t.read(done, p, n);
        if (halves == null) {
          floats.clear().limit(n * 4);
          writeFully(ch, floats);
        } else {
          halves.clear().limit(n * 2);
          for (int i = 0; i < n; i++) {
            // bf16 values widened to f32 exactly: the top half is the bf16 pattern; a narrowed f32 rounds
            int bits = floats.getInt(4 * i);
            halves.putShort(2 * i, (short) ((narrow ? roundToBf16(bits) : bits) >>> 16));
          }
          writeFully(ch, halves);
        }
      }
    }
  }

  /** f32 bits rounded to the nearest bf16 (ties to even) in the top half; NaN stays a (quiet) NaN. */
  static int roundToBf16(int bits) {
    if ((bits & 0x7fffffff) > 0x7f800000) {
      return bits | 0x00400000;
    }
    return bits + 0x7fff + ((bits >>> 16) & 1);
  }

  private static void writeFully(FileChannel ch, ByteBuffer buf) throws IOException {
    while (buf.hasRemaining()) {
      ch.write(buf);
    }
  }
}
