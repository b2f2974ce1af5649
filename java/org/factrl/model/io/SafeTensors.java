package org.factrl.model.io;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeSet;
import org.bytedeco.javacpp.FloatPointer;
import org.factrl.engine.DType;
import org.factrl.engine.FactRlException;
import org.factrl.engine.ParameterBlob;
import org.factrl.engine.Tensor;

/**
 * A safetensors file (the Hugging Face weights format) opened for reading: an immutable index of
 * its tensors — names, types, shapes, byte ranges — and metadata, checked in full by
 * {@link #read(Path)}; tensor data is read only when loaded into an engine tensor
 * ({@link #load(String, Tensor)}, {@link #loadInto(ParameterBlob)}).
 *
 * <p>The format: an 8-byte little-endian length N, N bytes of UTF-8 JSON ({@code {"name":
 * {"dtype": "F32", "shape": [2, 3], "data_offsets": [0, 24]}, "__metadata__": {"k": "v"}}}), then
 * the data buffer; offsets are relative to the buffer, data is row-major little-endian. Every
 * failure — a truncated file, a header length beyond the file or above {@value #MAX_HEADER_BYTES}
 * bytes, invalid JSON or duplicate keys, unknown types, byte ranges that overlap, leave gaps or do
 * not match dtype × shape, a shape or name that does not fit the target — is a
 * {@link FactRlException} naming the file and the tensor or field.
 *
 * <p>BF16 moves as its 16-bit pattern widened to f32 and rounded back, which is exact for every
 * value except signalling NaNs (they come back quiet, as every engine bf16 write makes them).
 * {@link #write} makes such files; see {@link SafeTensorsWriter}.
 */
public final class SafeTensors {
  /** Largest header accepted (the reference implementation's limit too): a guard against lengths that would exhaust memory. */
  public static final long MAX_HEADER_BYTES = 100_000_000L;
  /** Elements moved per native call when loading or saving. */
  static final int CHUNK_ELEMENTS = 1 << 20;

  private final Path path;
  private final long fileBytes;
  private final long dataStart;
  private final Map<String, SafeTensorsEntry> entries;
  private final List<String> names;
  private final Map<String, String> metadata;

  private SafeTensors(Path path, long fileBytes, long dataStart, SafeTensorsHeader header) {
    this.path = path;
    this.fileBytes = fileBytes;
    this.dataStart = dataStart;
    this.entries = header.entries;
    this.names = Collections.unmodifiableList(new ArrayList<>(header.entries.keySet()));
    this.metadata = header.metadata;
  }

  /** Reads and checks the header of {@code file}; reads no tensor data. */
  public static SafeTensors read(Path file) {
    Objects.requireNonNull(file, "file");
    if (!Files.isRegularFile(file)) {
      throw new FactRlException(file + ": not a regular file" + (Files.exists(file, LinkOption.NOFOLLOW_LINKS) ? "" : " (does not exist)"));
    }
    try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
      long size = ch.size();
      if (size < 8) {
        throw new FactRlException(file + ": truncated: " + size + " bytes, a safetensors file starts with an 8-byte header length");
      }
      ByteBuffer len = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
      readFully(ch, len, 0, file, "header length");
      long n = len.getLong(0);
      if (n < 0 || n > MAX_HEADER_BYTES) {
        throw new FactRlException(file + ": header length " + Long.toUnsignedString(n) + " is above the limit of "
            + MAX_HEADER_BYTES + " bytes (corrupt or not a safetensors file)");
      }
      if (n > size - 8) {
        throw new FactRlException(file + ": header length " + n + " is beyond the end of the file (" + size
            + " bytes): truncated or corrupt");
      }
      if (n < 2) {
        throw new FactRlException(file + ": header length " + n + " is too short for a JSON object");
      }
      ByteBuffer header = ByteBuffer.allocate((int) n);
      readFully(ch, header, 8, file, "header");
      SafeTensorsHeader parsed = SafeTensorsHeader.parse(header.array(), size - 8 - n, file.toString());
      return new SafeTensors(file, size, 8 + n, parsed);
    } catch (IOException e) {
      throw new FactRlException(file + ": cannot read: " + e, e);
    }
  }

  /** Reads {@code file} and fills every tensor of {@code blob} from it (see {@link #loadInto(ParameterBlob)}). */
  public static SafeTensors load(Path file, ParameterBlob blob) {
    SafeTensors st = read(file);
    st.loadInto(blob);
    return st;
  }

  /** As {@link #load(Path, ParameterBlob)}, BF16 entries widened into F32 tensors ({@link #loadInto(ParameterBlob, boolean)}). */
  public static SafeTensors loadWidening(Path file, ParameterBlob blob) {
    SafeTensors st = read(file);
    st.loadInto(blob, true);
    return st;
  }

  /**
   * Writes {@code tensors} (in map order) and {@code metadata} (in key order: the bytes do not depend
   * on the map's iteration order) to {@code file} atomically; refuses to replace an existing file
   * unless {@code ifExists} is {@link IfExists#REPLACE}.
   */
  public static void write(Path file, Map<String, Tensor> tensors, Map<String, String> metadata, IfExists ifExists) {
    SafeTensorsWriter.write(file, tensors, metadata, ifExists);
  }

  /** Writes every tensor of {@code blob} in layout order (HF names as they are). */
  public static void write(Path file, ParameterBlob blob, Map<String, String> metadata, IfExists ifExists) {
    Objects.requireNonNull(blob, "blob");
    Map<String, Tensor> tensors = new java.util.LinkedHashMap<>();
    for (String name : blob.names()) {
      tensors.put(name, blob.tensor(name));
    }
    SafeTensorsWriter.write(file, tensors, metadata, ifExists);
  }

  /**
   * As {@link #write(Path, ParameterBlob, Map, IfExists)}, F32 tensors stored as BF16 (rounded to
   * nearest even). {@link #load} widens them back into F32 tensors exactly.
   */
  public static void writeBf16(Path file, ParameterBlob blob, Map<String, String> metadata, IfExists ifExists) {
    Objects.requireNonNull(blob, "blob");
    Map<String, Tensor> tensors = new java.util.LinkedHashMap<>();
    for (String name : blob.names()) {
      tensors.put(name, blob.tensor(name));
    }
    SafeTensorsWriter.write(file, tensors, metadata, ifExists, true);
  }

  public Path path() {
    return path;
  }

  /** Tensor names in header order (immutable). */
  public List<String> names() {
    return names;
  }

  /** Every tensor by name, in header order (immutable). */
  public Map<String, SafeTensorsEntry> entries() {
    return entries;
  }

  public boolean contains(String name) {
    return entries.containsKey(name);
  }

  /** The named tensor's entry; throws naming the file and tensor when there is none. */
  public SafeTensorsEntry entry(String name) {
    SafeTensorsEntry e = entries.get(Objects.requireNonNull(name, "name"));
    if (e == null) {
      throw new FactRlException(path + ": has no tensor '" + name + "' (" + entries.size() + " tensors)");
    }
    return e;
  }

  /** The {@code __metadata__} strings (immutable, empty when absent). */
  public Map<String, String> metadata() {
    return metadata;
  }

  /** Offset of the data buffer from the start of the file (8 + header length). */
  public long dataStart() {
    return dataStart;
  }

  /**
   * Fills {@code blob} by name: every blob entry must be in the file and every file tensor in the
   * blob, with equal type and shape. Everything is checked before any byte is read, so a mismatch
   * leaves the blob as it was.
   */
  public void loadInto(ParameterBlob blob) {
    loadInto(blob, false);
  }

  /**
   * As {@link #loadInto(ParameterBlob)}; with {@code widenBf16} a BF16 entry may also fill an F32
   * tensor (exact: bf16 is the top half of an f32) — how a base saved in bf16 loads into the
   * engine's f32 weights. Without it every entry must have its tensor's type.
   */
  public void loadInto(ParameterBlob blob, boolean widenBf16) {
    Objects.requireNonNull(blob, "blob");
    TreeSet<String> missing = new TreeSet<>(blob.names());
    missing.removeAll(entries.keySet());
    TreeSet<String> unexpected = new TreeSet<>(entries.keySet());
    unexpected.removeAll(blob.names());
    if (!missing.isEmpty() || !unexpected.isEmpty()) {
      throw new FactRlException(path + ": tensor names do not fit the model: " + missing.size()
          + " missing from the file " + firstFew(missing) + ", " + unexpected.size() + " not in the model "
          + firstFew(unexpected));
    }
    for (String name : blob.names()) {
      checkFits(entry(name), blob.tensor(name), widenBf16);
    }
    try (FileChannel ch = open()) {
      for (String name : blob.names()) {
        copy(ch, entry(name), blob.tensor(name));
      }
    } catch (IOException e) {
      throw new FactRlException(path + ": cannot read: " + e, e);
    }
  }

  /** Loads the named tensor into {@code into}, which must have its type and shape. */
  public void load(String name, Tensor into) {
    Objects.requireNonNull(into, "into");
    SafeTensorsEntry e = entry(name);
    checkFits(e, into, false);
    try (FileChannel ch = open()) {
      copy(ch, e, into);
    } catch (IOException ex) {
      throw new FactRlException(path + ": cannot read tensor '" + name + "': " + ex, ex);
    }
  }

  /** The named tensor's values as floats (F32, BF16 and F16 tensors; at most 2^31 − 1 elements). */
  public float[] readFloats(String name) {
    SafeTensorsEntry e = entry(name);
    if (e.dtype() != SafeTensorsDType.F32 && e.dtype() != SafeTensorsDType.BF16 && e.dtype() != SafeTensorsDType.F16) {
      throw new FactRlException(path + ": tensor '" + name + "' is " + e.dtype() + ", not a float type");
    }
    if (e.numel() > Integer.MAX_VALUE - 8) {
      throw new FactRlException(path + ": tensor '" + name + "' has " + e.numel() + " elements, too many for a Java array");
    }
    float[] out = new float[(int) e.numel()];
    try (FileChannel ch = open()) {
      ByteBuffer buf = ByteBuffer.allocate((int) e.byteSize()).order(ByteOrder.LITTLE_ENDIAN);
      readFully(ch, buf, dataStart + e.begin(), path, "tensor '" + name + "'");
      for (int i = 0; i < out.length; i++) {
        out[i] = switch (e.dtype()) {
          case F32 -> buf.getFloat(4 * i);
          case BF16 -> Float.intBitsToFloat((buf.getShort(2 * i) & 0xFFFF) << 16);
          default -> halfToFloat(buf.getShort(2 * i));
        };
      }
    } catch (IOException ex) {
      throw new FactRlException(path + ": cannot read tensor '" + name + "': " + ex, ex);
    }
    return out;
  }

  /** IEEE binary16 to float, exact (subnormals, infinities and NaN included). */
  static float halfToFloat(short h) {
    int bits = h & 0xFFFF;
    int sign = (bits & 0x8000) << 16;
    int exp = (bits >>> 10) & 0x1F;
    int mant = bits & 0x3FF;
    if (exp == 0x1F) {
      return Float.intBitsToFloat(sign | 0x7F800000 | (mant << 13));
    }
    if (exp == 0) {
      float v = mant * 0x1p-24f; // subnormal (or zero): mant × 2^-24, exact in float
      return sign != 0 ? -v : v;
    }
    return Float.intBitsToFloat(sign | ((exp + 112) << 23) | (mant << 13));
  }

  private FileChannel open() throws IOException {
    FileChannel ch = FileChannel.open(path, StandardOpenOption.READ);
    if (ch.size() != fileBytes) {
      long now = ch.size();
      ch.close();
      throw new FactRlException(path + ": changed since its header was read (" + fileBytes + " bytes then, " + now + " now)");
    }
    return ch;
  }

  private void checkFits(SafeTensorsEntry e, Tensor t, boolean widenBf16) {
    DType want = t.dtype();
    boolean widen = widenBf16 && e.dtype() == SafeTensorsDType.BF16 && want == DType.F32;
    if ((e.dtype().engineType().orElse(null) != want && !widen) || !Arrays.equals(e.shape(), t.shape())) {
      throw new FactRlException(path + ": tensor '" + e.name() + "' is " + e.dtype() + " " + Arrays.toString(e.shape())
          + " in the file, but the model's is " + SafeTensorsDType.of(want) + " " + Arrays.toString(t.shape()));
    }
  }

  /** Copies the entry's bytes into {@code t} in chunks (type and shape already checked). */
  private void copy(FileChannel ch, SafeTensorsEntry e, Tensor t) throws IOException {
    String what = "tensor '" + e.name() + "'";
    long numel = e.numel();
    if (e.dtype() == SafeTensorsDType.I32) {
      if (numel > Integer.MAX_VALUE - 8) {
        throw new FactRlException(path + ": " + what + ": I32 tensors above 2^31 elements are not supported");
      }
      ByteBuffer buf = ByteBuffer.allocate((int) e.byteSize()).order(ByteOrder.LITTLE_ENDIAN);
      readFully(ch, buf, dataStart + e.begin(), path, what);
      int[] values = new int[(int) numel];
      buf.asIntBuffer().get(values);
      t.write(values);
      return;
    }
    int chunk = (int) Math.min(CHUNK_ELEMENTS, Math.max(1, numel));
    ByteBuffer raw = ByteBuffer.allocateDirect(chunk * e.dtype().bytes()).order(ByteOrder.LITTLE_ENDIAN);
    ByteBuffer floats = e.dtype() == SafeTensorsDType.F32 ? raw
        : ByteBuffer.allocateDirect(chunk * 4).order(ByteOrder.nativeOrder());
    try (FloatPointer p = new FloatPointer(floats.asFloatBuffer())) {
      for (long done = 0; done < numel; done += chunk) {
        int n = (int) Math.min(chunk, numel - done);
        raw.clear().limit(n * e.dtype().bytes());
        readFully(ch, raw, dataStart + e.begin() + done * e.dtype().bytes(), path, what);
        if (e.dtype() == SafeTensorsDType.F32) {
          requireLittleEndianHost();
        } else {
          for (int i = 0; i < n; i++) {
            floats.putInt(4 * i, (raw.getShort(2 * i) & 0xFFFF) << 16); // bf16 is the top half of an f32
          }
        }
        p.position(0).limit(n);
        t.write(done, p, n);
      }
    }
  }

  static void requireLittleEndianHost() {
    if (ByteOrder.nativeOrder() != ByteOrder.LITTLE_ENDIAN) {
      throw new FactRlException("safetensors I/O of f32 data needs a little-endian host");
    }
  }

  /** Fills {@code buf} (position to limit) from file offset {@code at}; a short file is an error naming {@code what}. */
  static void readFully(FileChannel ch, ByteBuffer buf, long at, Object file, String what) throws IOException {
    long pos = at;
    while (buf.hasRemaining()) {
      int r = ch.read(buf, pos);
      if (r < 0) {
        throw new FactRlException(file + ": truncated: the file ends at byte " + pos + " inside the " + what);
      }
      pos += r;
    }
    buf.flip();
  }

  private static String firstFew(TreeSet<String> names) {
    List<String> few = new ArrayList<>();
    for (String n : names) {
      if (few.size() == 5) {
        few.add("...");
        break;
      }
      few.add("'" + n + "'");
    }
    return few.toString();
  }

  @Override
  public String toString() {
    return "SafeTensors(" + path + ", " + entries.size() + " tensors)";
  }
}
