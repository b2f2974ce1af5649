package org.factrl.model.io;

import com.google.gson.stream.JsonWriter;
import java.io.IOException;
import java.io.StringWriter;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.Map;
import java.util.Objects;
import org.bytedeco.javacpp.FloatPointer;
import org.factrl.data.format.AtomicFiles;
import org.factrl.engine.DType;
import org.factrl.engine.FactRlException;
import org.factrl.engine.Tensor;

/**
 * Writes safetensors files the way the reference implementation does — header padded with spaces
 * to a multiple of 8 bytes (so the data buffer is 8-byte aligned), tensors in the given order,
 * back to back — and never leaves a half-written file: the bytes go to a hidden temporary file in
 * the same folder, are forced to disk, and the file then appears under its name in one step
 * (a hard link that fails if the name exists, or an atomic rename when replacing is asked for).
 */
final class SafeTensorsWriter {
  private SafeTensorsWriter() {}

  static void write(Path file, Map<String, Tensor> tensors, Map<String, String> metadata, IfExists ifExists) {
    Objects.requireNonNull(file, "file");
    Objects.requireNonNull(tensors, "tensors");
    Objects.requireNonNull(metadata, "metadata");
    Objects.requireNonNull(ifExists, "ifExists");
    byte[] header = header(file, tensors, metadata);
    Path target = file.toAbsolutePath();
    if (Files.exists(target, LinkOption.NOFOLLOW_LINKS)) {
      if (ifExists == IfExists.FAIL) {
        throw new FactRlException(file + ": already exists; not overwritten (ask to replace it explicitly)");
      }
      if (!Files.isRegularFile(target, LinkOption.NOFOLLOW_LINKS)) {
        throw new FactRlException(file + ": exists and is not a regular file; not replaced");
      }
    }
    Path tmp = null;
    try {
      Files.createDirectories(target.getParent());
      tmp = AtomicFiles.temporarySibling(target, ".tmp");
      try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
        ByteBuffer len = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(0, header.length);
        writeFully(ch, len);
        writeFully(ch, ByteBuffer.wrap(header));
        for (Map.Entry<String, Tensor> e : tensors.entrySet()) {
          writeData(ch, e.getValue());
        }
        ch.force(true);
      }
      if (ifExists == IfExists.REPLACE) {
        Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
      } else {
        publishWithoutReplacing(tmp, target, file);
      }
      tmp = null;
      syncFolder(target.getParent());
    } catch (IOException e) {
      throw new FactRlException(file + ": cannot write: " + e, e);
    } finally {
      if (tmp != null) {
        try {
          Files.deleteIfExists(tmp);
        } catch (IOException ignored) {
          // the write already failed; that error is the one worth reporting
        }
      }
    }
  }

  /** Makes {@code tmp} appear as {@code target} unless something appeared there meanwhile. */
  private static void publishWithoutReplacing(Path tmp, Path target, Path file) throws IOException {
    try {
      Files.createLink(target, tmp); // atomic, and fails if the name exists (rename would replace)
    } catch (FileAlreadyExistsException e) {
      throw new FactRlException(file + ": already exists; not overwritten (ask to replace it explicitly)", e);
    } catch (UnsupportedOperationException | IOException noHardLinks) {
      if (Files.exists(target, LinkOption.NOFOLLOW_LINKS)) {
        throw new FactRlException(file + ": already exists; not overwritten (ask to replace it explicitly)");
      }
      Files.move(tmp, target); // no hard links on this file system: a plain rename, which refuses to replace
      return;
    }
    Files.delete(tmp);
  }

  /** Makes the new directory entry durable too (best effort: some file systems refuse). */
  private static void syncFolder(Path dir) {
    try (FileChannel d = FileChannel.open(dir, StandardOpenOption.READ)) {
      d.force(true);
    } catch (IOException | UnsupportedOperationException ignored) {
      // the file itself is on disk; only the name's durability depends on this
    }
  }

  /** The JSON header, padded with spaces to a multiple of 8 bytes. */
  static byte[] header(Path file, Map<String, Tensor> tensors, Map<String, String> metadata) {
    StringWriter out = new StringWriter();
    try (JsonWriter w = new JsonWriter(out)) {
      w.setHtmlSafe(false);
      w.beginObject();
      if (!metadata.isEmpty()) {
        w.name(SafeTensorsHeader.METADATA).beginObject();
        for (Map.Entry<String, String> m : metadata.entrySet()) {
          w.name(Objects.requireNonNull(m.getKey(), "metadata key"))
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
        long bytes = t.numel() * t.dtype().bytes();
        w.name(name).beginObject();
        w.name("dtype").value(SafeTensorsDType.of(t.dtype()).name());
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
  private static void writeData(FileChannel ch, Tensor t) throws IOException {
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
    ByteBuffer halves = t.dtype() == DType.BF16 ? ByteBuffer.allocateDirect(chunk * 2).order(ByteOrder.LITTLE_ENDIAN) : null;
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
            // bf16 values widened to f32 exactly: the top half is the bf16 pattern
            halves.putShort(2 * i, (short) (floats.getInt(4 * i) >>> 16));
          }
          writeFully(ch, halves);
        }
      }
    }
  }

  private static void writeFully(FileChannel ch, ByteBuffer buf) throws IOException {
    while (buf.hasRemaining()) {
      ch.write(buf);
    }
  }
}
