package org.factrl.model.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.factrl.engine.DType;
import org.factrl.engine.Device;
import org.factrl.engine.FactRlException;
import org.factrl.engine.ParameterBlob;
import org.factrl.engine.Tensor;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.api.io.TempDir;

/**
 * The safetensors reader against files from two independent writers (a hand-built byte fixture
 * and a Python standard-library script), the writer's bytes against the format description
 * (header parsed with Gson, offsets and data decoded by hand), round trips bit for bit, and one
 * test per way a file can be wrong.
 */
class SafeTensorsTest {
  @TempDir Path dir;

  static ParameterBlob model(Device cpu) {
    return ParameterBlob.builder()
        .add("model.embed_tokens.weight", DType.BF16, 7, 4)
        .add("model.layers.0.self_attn.q_proj.weight", DType.F32, 4, 4)
        .add("model.norm.weight", DType.F32, 4)
        .add("positions", DType.I32, 3)
        .add("empty", DType.F32, 0, 4)
        .build(cpu);
  }

  /** Random values, plus the values that round trips get wrong: -0, ±inf, NaN, subnormals. */
  static void fill(ParameterBlob blob, long seed) {
    Random r = new Random(seed);
    for (String name : blob.names()) {
      Tensor t = blob.tensor(name);
      if (t.dtype() == DType.I32) {
        int[] v = new int[(int) t.numel()];
        for (int i = 0; i < v.length; i++) {
          v[i] = r.nextInt();
        }
        t.write(v);
      } else {
        float[] v = new float[(int) t.numel()];
        for (int i = 0; i < v.length; i++) {
          v[i] = (float) r.nextGaussian();
        }
        float[] special = {-0.0f, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY, Float.NaN, 1e-40f, Float.MIN_VALUE};
        for (int i = 0; i < Math.min(v.length, special.length); i++) {
          v[i] = special[i];
        }
        t.write(v);
      }
    }
  }

  static int[] bits(Tensor t) {
    if (t.dtype() == DType.I32) {
      return t.toIntArray();
    }
    float[] f = t.toFloatArray();
    int[] b = new int[f.length];
    for (int i = 0; i < f.length; i++) {
      b[i] = Float.floatToRawIntBits(f[i]);
    }
    return b;
  }

  static void assertMessage(Executable call, String... fragments) {
    FactRlException e = assertThrows(FactRlException.class, call);
    for (String f : fragments) {
      assertTrue(e.getMessage().contains(f), () -> "message lacks '" + f + "': " + e.getMessage());
    }
  }

  @Test
  void roundTripIsBitIdenticalForF32Bf16AndI32() {
    Path file = dir.resolve("model.safetensors");
    try (Device cpu = Device.cpu(); ParameterBlob a = model(cpu); ParameterBlob b = model(cpu)) {
      fill(a, 1);
      SafeTensors.write(file, a, Map.of("format", "pt"), IfExists.FAIL);
      SafeTensors st = SafeTensors.load(file, b);
      assertEquals(a.names(), st.names());
      assertEquals(Map.of("format", "pt"), st.metadata());
      for (String name : a.names()) {
        assertArrayEquals(bits(a.tensor(name)), bits(b.tensor(name)), name);
      }
      // and written again, the same bytes
      Path again = dir.resolve("again.safetensors");
      SafeTensors.write(again, b, Map.of("format", "pt"), IfExists.FAIL);
      assertArrayEquals(read(file), read(again));
    }
  }

  @Test
  void roundTripOfMoreThanOneChunk() {
    Path file = dir.resolve("big.safetensors");
    long n = SafeTensors.CHUNK_ELEMENTS * 2L + 3;
    try (Device cpu = Device.cpu();
        ParameterBlob a = ParameterBlob.builder().add("x", DType.F32, n).add("y", DType.BF16, n).build(cpu);
        ParameterBlob b = a.likeThis()) {
      fill(a, 2);
      SafeTensors.write(file, a, Map.of(), IfExists.FAIL);
      SafeTensors.load(file, b);
      assertArrayEquals(bits(a.tensor("x")), bits(b.tensor("x")));
      assertArrayEquals(bits(a.tensor("y")), bits(b.tensor("y")));
    }
  }

  @Test
  void writtenBytesFollowTheFormat() throws IOException {
    Path file = dir.resolve("spec.safetensors");
    try (Device cpu = Device.cpu(); ParameterBlob a = model(cpu)) {
      fill(a, 3);
      SafeTensors.write(file, a, Map.of("note", "<é>"), IfExists.FAIL);
      byte[] bytes = read(file);
      ByteBuffer bb = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
      long n = bb.getLong(0);
      assertEquals(0, (8 + n) % 8, "data buffer 8-byte aligned");
      JsonObject header = JsonParser.parseString(new String(bytes, 8, (int) n, StandardCharsets.UTF_8)).getAsJsonObject();
      assertEquals("<é>", header.getAsJsonObject("__metadata__").get("note").getAsString());
      long expectedBegin = 0;
      for (String name : a.names()) {
        Tensor t = a.tensor(name);
        JsonObject e = header.getAsJsonObject(name);
        assertEquals(t.dtype() == DType.F32 ? "F32" : t.dtype() == DType.BF16 ? "BF16" : "I32", e.get("dtype").getAsString());
        long[] shape = new long[e.getAsJsonArray("shape").size()];
        for (int i = 0; i < shape.length; i++) {
          shape[i] = e.getAsJsonArray("shape").get(i).getAsLong();
        }
        assertArrayEquals(t.shape(), shape, name);
        long begin = e.getAsJsonArray("data_offsets").get(0).getAsLong();
        long end = e.getAsJsonArray("data_offsets").get(1).getAsLong();
        assertEquals(expectedBegin, begin, name);
        assertEquals(t.numel() * t.dtype().bytes(), end - begin, name);
        int[] expected = bits(t);
        for (int i = 0; i < expected.length; i++) {
          int at = (int) (8 + n + begin) + i * t.dtype().bytes();
          int got = t.dtype() == DType.BF16 ? (bb.getShort(at) & 0xFFFF) << 16 : bb.getInt(at);
          assertEquals(expected[i], got, name + "[" + i + "]");
        }
        expectedBegin = end;
      }
      assertEquals(bytes.length, 8 + n + expectedBegin);
    }
  }

  /** Same tensors and metadata, same bytes: metadata goes in key order whatever the map's order. */
  @Test
  void metadataOrderDoesNotChangeTheBytes() throws IOException {
    Map<String, String> ab = new LinkedHashMap<>();
    ab.put("format", "pt");
    ab.put("factrl.head", "REWARD");
    Map<String, String> ba = new LinkedHashMap<>();
    ba.put("factrl.head", "REWARD");
    ba.put("format", "pt");
    try (Device cpu = Device.cpu(); ParameterBlob a = model(cpu)) {
      fill(a, 4);
      SafeTensors.write(dir.resolve("ab.safetensors"), a, ab, IfExists.FAIL);
      SafeTensors.write(dir.resolve("ba.safetensors"), a, ba, IfExists.FAIL);
    }
    assertArrayEquals(read(dir.resolve("ab.safetensors")), read(dir.resolve("ba.safetensors")));
  }

  /** A file built byte by byte from the format description (not by our writer). */
  static byte[] handBuilt() {
    String header = "{\"b\":{\"dtype\":\"BF16\",\"shape\":[3],\"data_offsets\":[8,14]},"
        + "\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},\"__metadata__\":{\"k\":\"v\"}}";
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    byte[] h = header.getBytes(StandardCharsets.UTF_8);
    long n = h.length;
    for (int i = 0; i < 8; i++) {
      out.write((int) (n >>> (8 * i)) & 0xFF);
    }
    out.writeBytes(h);
    // a = [1.0f, -2.5f]: 0x3F800000, 0xC0200000 little-endian
    out.writeBytes(new byte[] {0, 0, (byte) 0x80, 0x3F, 0, 0, 0x20, (byte) 0xC0});
    // b = bf16 [1.0, -0.0, 0.5]: 0x3F80, 0x8000, 0x3F00 little-endian
    out.writeBytes(new byte[] {(byte) 0x80, 0x3F, 0, (byte) 0x80, 0, 0x3F});
    return out.toByteArray();
  }

  @Test
  void readsAHandBuiltFile() throws IOException {
    Path file = dir.resolve("hand.safetensors");
    Files.write(file, handBuilt());
    SafeTensors st = SafeTensors.read(file);
    assertEquals(List.of("b", "a"), st.names());
    assertEquals(Map.of("k", "v"), st.metadata());
    assertEquals(SafeTensorsDType.BF16, st.entry("b").dtype());
    try (Device cpu = Device.cpu(); Tensor a = cpu.zeros(DType.F32, 2); Tensor b = cpu.zeros(DType.BF16, 3)) {
      st.load("a", a);
      st.load("b", b);
      assertArrayEquals(new float[] {1.0f, -2.5f}, a.toFloatArray());
      assertArrayEquals(new int[] {0x3F800000, 0x80000000, 0x3F000000}, bits(b));
    }
    assertArrayEquals(new float[] {1.0f, -0.0f, 0.5f}, st.readFloats("b"));
  }

  @Test
  void readsAFileWrittenByAnIndependentPythonWriter() throws Exception {
    Assumptions.assumeTrue(python() != null, "no python3 on this machine");
    Path script = Path.of(SafeTensorsTest.class.getResource("write_safetensors.py").toURI());
    Path file = dir.resolve("python.safetensors");
    Process p = new ProcessBuilder(python(), script.toString(), file.toString()).redirectErrorStream(true).start();
    assertTrue(p.waitFor(60, TimeUnit.SECONDS), "python writer finished");
    String log = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertEquals(0, p.exitValue(), log);
    SafeTensors st = SafeTensors.read(file);
    assertEquals(Map.of("format", "pt", "writer", "python"), st.metadata());
    try (Device cpu = Device.cpu(); Tensor w = cpu.zeros(DType.F32, 3, 5); Tensor b = cpu.zeros(DType.BF16, 4, 2);
        Tensor ids = cpu.zeros(DType.I32, 6)) {
      st.load("w.f32", w);
      st.load("b.bf16", b);
      st.load("ids", ids);
      float[] wf = w.toFloatArray();
      for (int i = 0; i < 15; i++) {
        assertEquals(i * 0.25f - 1.5f, wf[i]);
      }
      int[] bb = bits(b);
      for (int i = 0; i < 8; i++) {
        assertEquals((0x3F80 + 37 * i) << 16, bb[i]);
      }
      int[] id = ids.toIntArray();
      for (int i = 0; i < 6; i++) {
        assertEquals((i % 2 == 0 ? 1 : -1) * i * 1000003, id[i]);
      }
    }
  }

  static String python() {
    for (String dirName : System.getenv().getOrDefault("PATH", "").split(java.io.File.pathSeparator)) {
      if (Files.isExecutable(Path.of(dirName, "python3"))) {
        return Path.of(dirName, "python3").toString();
      }
    }
    return null;
  }

  @Test
  void namesOrShapesThatDoNotFitFailNamingTheTensorAndBothShapes() {
    Path file = dir.resolve("m.safetensors");
    try (Device cpu = Device.cpu(); ParameterBlob a = model(cpu);
        ParameterBlob wrongShape = ParameterBlob.builder()
            .add("model.embed_tokens.weight", DType.BF16, 7, 4)
            .add("model.layers.0.self_attn.q_proj.weight", DType.F32, 4, 5)
            .add("model.norm.weight", DType.F32, 4)
            .add("positions", DType.I32, 3)
            .add("empty", DType.F32, 0, 4)
            .build(cpu);
        ParameterBlob wrongNames = ParameterBlob.builder().add("model.norm.weight", DType.F32, 4).add("lm_head.weight", DType.F32, 2).build(cpu);
        Tensor wrongType = cpu.zeros(DType.F32, 7, 4)) {
      fill(a, 4);
      SafeTensors.write(file, a, Map.of(), IfExists.FAIL);
      assertMessage(() -> SafeTensors.load(file, wrongShape), file.toString(), "'model.layers.0.self_attn.q_proj.weight'",
          "F32 [4, 4] in the file", "F32 [4, 5]");
      assertMessage(() -> SafeTensors.load(file, wrongNames), "'lm_head.weight'", "'positions'");
      assertMessage(() -> SafeTensors.read(file).load("model.embed_tokens.weight", wrongType), "BF16 [7, 4]", "F32 [7, 4]");
      assertMessage(() -> SafeTensors.read(file).entry("nope"), "'nope'");
      // nothing was loaded into the wrong-shaped blob
      assertArrayEquals(new float[28], wrongShape.tensor("model.embed_tokens.weight").toFloatArray());
    }
  }

  @Test
  void neverOverwritesUnlessAskedAndLeavesNoTemporaryFiles() throws IOException {
    Path file = dir.resolve("w.safetensors");
    Files.writeString(file, "precious");
    try (Device cpu = Device.cpu(); ParameterBlob a = model(cpu)) {
      assertMessage(() -> SafeTensors.write(file, a, Map.of(), IfExists.FAIL), file.toString(), "already exists");
      assertEquals("precious", Files.readString(file));
      SafeTensors.write(file, a, Map.of(), IfExists.REPLACE);
      assertEquals(a.names(), SafeTensors.read(file).names());
      Files.createDirectory(dir.resolve("folder"));
      assertMessage(() -> SafeTensors.write(dir.resolve("folder"), a, Map.of(), IfExists.REPLACE), "not a regular file");
      assertMessage(() -> SafeTensors.write(dir.resolve("x"), Map.of("__metadata__", a.tensor("positions")), Map.of(), IfExists.FAIL),
          "__metadata__");
    }
    try (Stream<Path> files = Files.list(dir)) {
      assertEquals(List.of("folder", "w.safetensors"), files.map(p -> p.getFileName().toString()).sorted().toList());
    }
  }

  // ---- broken files -------------------------------------------------------------------------

  /** A file with this header text and {@code dataBytes} zero bytes after it. */
  Path withHeader(String header, int dataBytes) throws IOException {
    byte[] h = header.getBytes(StandardCharsets.UTF_8);
    ByteBuffer b = ByteBuffer.allocate(8 + h.length + dataBytes).order(ByteOrder.LITTLE_ENDIAN);
    b.putLong(h.length).put(h);
    Path file = dir.resolve("bad" + System.nanoTime() + ".safetensors");
    Files.write(file, b.array());
    return file;
  }

  static String entry(String name, String dtype, String shape, long begin, long end) {
    return "\"" + name + "\":{\"dtype\":\"" + dtype + "\",\"shape\":" + shape + ",\"data_offsets\":[" + begin + "," + end + "]}";
  }

  void assertReadFails(Path file, String... fragments) {
    String[] all = Stream.concat(Stream.of(file.toString()), Stream.of(fragments)).toArray(String[]::new);
    assertMessage(() -> SafeTensors.read(file), all);
  }

  @Test
  void brokenFilesFailNamingTheFileAndTheField() throws IOException {
    assertReadFails(withHeader("{" + entry("x", "F32", "[2]", 0, 8) + "}", 4), "'x'", "ends at byte 8", "truncated");
    assertReadFails(withHeader("{" + entry("x", "F32", "[2]", 0, 8) + "}", 12), "trailing bytes");
    assertReadFails(withHeader("{" + entry("x", "F32", "[2]", 0, 8) + "," + entry("y", "F32", "[1]", 4, 8) + "}", 8),
        "data_offsets", "overlapping");
    assertReadFails(withHeader("{" + entry("x", "F32", "[2]", 4, 12) + "}", 12), "'x'", "gap");
    assertReadFails(withHeader("{" + entry("x", "F32", "[2]", 0, 12) + "}", 12), "'x'", "spans 12 bytes", "needs 8");
    assertReadFails(withHeader("{" + entry("x", "F17", "[2]", 0, 8) + "}", 8), "'x'", "unknown type 'F17'");
    assertReadFails(withHeader("{" + entry("x", "F32", "[2]", 8, 0) + "}", 8), "'x'", "before begin");
    assertReadFails(withHeader("{" + entry("x", "F32", "[-2]", 0, 8) + "}", 8), "'x'", "negative");
    assertReadFails(withHeader("{" + entry("x", "F32", "[2.0]", 0, 8) + "}", 8), "'x'", "not a 64-bit integer");
    assertReadFails(withHeader("{" + entry("x", "F32", "[4294967296,4294967296]", 0, 8) + "}", 8), "'x'", "too large");
    assertReadFails(withHeader("{" + entry("x", "F32", "[2]", 0, 8) + "," + entry("x", "F32", "[2]", 0, 8) + "}", 8),
        "duplicate key");
    assertReadFails(withHeader("{\"x\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8],\"extra\":1}}", 8), "'x'", "'extra'");
    assertReadFails(withHeader("{\"x\":{\"dtype\":\"F32\",\"data_offsets\":[0,8]}}", 8), "'x'", "'shape' is missing");
    assertReadFails(withHeader("{\"__metadata__\":{\"k\":1}}", 0), "__metadata__.k");
    assertReadFails(withHeader("[1,2]", 0), "not a JSON object");
    assertReadFails(withHeader("{\"x\":", 0), "not valid JSON");
    // header length beyond the file, above the cap, and a file shorter than the length field
    Path file = dir.resolve("short.safetensors");
    Files.write(file, ByteBuffer.allocate(20).order(ByteOrder.LITTLE_ENDIAN).putLong(100).array());
    assertReadFails(file, "header length 100 is beyond the end of the file");
    Files.write(file, ByteBuffer.allocate(20).order(ByteOrder.LITTLE_ENDIAN).putLong(-1).array());
    assertReadFails(file, "above the limit");
    Files.write(file, ByteBuffer.allocate(20).order(ByteOrder.LITTLE_ENDIAN).putLong(SafeTensors.MAX_HEADER_BYTES + 1).array());
    assertReadFails(file, "above the limit");
    Files.write(file, new byte[] {1, 0, 0});
    assertReadFails(file, "truncated");
    Files.write(file, new byte[] {8, 0, 0, 0, 0, 0, 0, 0, (byte) 0xFF, (byte) 0xFE, '{', '}', ' ', ' ', ' ', ' '});
    assertReadFails(file, "UTF-8");
    assertReadFails(dir, "not a regular file");
    assertReadFails(dir.resolve("missing.safetensors"), "does not exist");
  }

  @Test
  void aFileTruncatedAfterItsHeaderWasReadFailsWhenLoading() throws IOException {
    Path file = dir.resolve("t.safetensors");
    Files.write(file, handBuilt());
    SafeTensors st = SafeTensors.read(file);
    byte[] all = read(file);
    Files.write(file, java.util.Arrays.copyOf(all, all.length - 3));
    try (Device cpu = Device.cpu(); Tensor a = cpu.zeros(DType.F32, 2)) {
      assertMessage(() -> st.load("a", a), file.toString(), "changed since");
    }
  }

  @Test
  void halfFloatsDecodeExactly() {
    assertEquals(1.0f, SafeTensors.halfToFloat((short) 0x3C00));
    assertEquals(-2.0f, SafeTensors.halfToFloat((short) 0xC000));
    assertEquals(65504f, SafeTensors.halfToFloat((short) 0x7BFF));
    assertEquals(0x1p-24f, SafeTensors.halfToFloat((short) 0x0001));
    assertEquals(Float.NEGATIVE_INFINITY, SafeTensors.halfToFloat((short) 0xFC00));
    assertTrue(Float.isNaN(SafeTensors.halfToFloat((short) 0x7E00)));
  }

  static byte[] read(Path file) {
    try {
      return Files.readAllBytes(file);
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  static Map<String, Tensor> ordered(Object... nameTensor) {
    Map<String, Tensor> m = new LinkedHashMap<>();
    for (int i = 0; i < nameTensor.length; i += 2) {
      m.put((String) nameTensor[i], (Tensor) nameTensor[i + 1]);
    }
    return m;
  }
}
