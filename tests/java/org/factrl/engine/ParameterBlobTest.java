package org.factrl.engine;

import static org.factrl.engine.TensorViewTest.assertMessage;
import static org.factrl.testing.Numerics.uniform;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Parameter blobs: layout (order, 64-byte alignment, exact byte count), lookup by HF name, a blob
 * like this one for gradients, isolation of neighbouring entries, bytesInUse counted once, and the
 * ownership rules (entries close with the blob; views of it block the close).
 */
class ParameterBlobTest {

  private static ParameterBlob tinyModel(Device dev) {
    return ParameterBlob.builder()
        .add("model.embed_tokens.weight", DType.F32, 10, 3)         // 120 B -> 128
        .add("model.layers.0.self_attn.q_proj.weight", DType.F32, 3, 3)  // 36 B -> 64
        .add("model.norm.weight", DType.F32, 3)                     // 12 B -> 64
        .add("lm_head.bias", DType.BF16, 5)                         // 10 B -> 64
        .add("positions", DType.I32, 2, 2)                          // 16 B -> 64
        .build(dev);
  }

  @Test
  void layoutKeepsOrderAlignsEveryEntryAndCountsBytesOnce() {
    try (Device cpu = Device.cpu()) {
      long before = cpu.bytesInUse();
      try (ParameterBlob blob = tinyModel(cpu)) {
        assertEquals(List.of("model.embed_tokens.weight", "model.layers.0.self_attn.q_proj.weight", "model.norm.weight",
            "lm_head.bias", "positions"), blob.names());
        assertEquals(128 + 64 + 64 + 64 + 64, blob.bytes());
        assertEquals(0, blob.byteOffset("model.embed_tokens.weight"));
        assertEquals(128, blob.byteOffset("model.layers.0.self_attn.q_proj.weight"));
        assertEquals(192, blob.byteOffset("model.norm.weight"));
        assertEquals(256, blob.byteOffset("lm_head.bias"));
        assertEquals(320, blob.byteOffset("positions"));
        assertEquals(before + blob.bytes(), cpu.bytesInUse());
        Tensor q = blob.tensor("model.layers.0.self_attn.q_proj.weight");
        assertArrayEquals(new long[] {3, 3}, q.shape());
        assertEquals(DType.F32, q.dtype());
        assertEquals(32, q.storageOffset());  // 128 bytes / 4
        assertTrue(q.isContiguous());
        try (ParameterBlob grads = blob.likeThis()) {
          assertEquals(blob.names(), grads.names());
          assertEquals(blob.bytes(), grads.bytes());
          assertEquals(before + 2 * blob.bytes(), cpu.bytesInUse());
          for (String n : blob.names()) {
            assertArrayEquals(blob.tensor(n).shape(), grads.tensor(n).shape());
            assertEquals(blob.tensor(n).dtype(), grads.tensor(n).dtype());
            assertEquals(blob.byteOffset(n), grads.byteOffset(n));
          }
          assertArrayEquals(new float[9], grads.tensor("model.layers.0.self_attn.q_proj.weight").toFloatArray());
        }
        try (Tensor v = q.reshape(9)) {
          assertEquals(before + blob.bytes(), cpu.bytesInUse());
        }
      }
      assertEquals(before, cpu.bytesInUse());
    }
  }

  @Test
  void entriesAreIsolatedAndRoundTripEveryDtype() {
    try (Device cpu = Device.cpu(); ParameterBlob blob = tinyModel(cpu)) {
      float[] emb = uniform(1, 30, 1f);
      float[] q = uniform(2, 9, 1f);
      blob.tensor("model.embed_tokens.weight").write(emb);
      blob.tensor("model.layers.0.self_attn.q_proj.weight").write(q);
      blob.tensor("model.norm.weight").write(new float[] {1, 2, 3});
      blob.tensor("lm_head.bias").write(new float[] {1, 2, 3, 4, 5});
      blob.tensor("positions").write(new int[] {7, 8, 9, 10});
      assertArrayEquals(emb, blob.tensor("model.embed_tokens.weight").toFloatArray());
      assertArrayEquals(q, blob.tensor("model.layers.0.self_attn.q_proj.weight").toFloatArray());
      assertArrayEquals(new float[] {1, 2, 3}, blob.tensor("model.norm.weight").toFloatArray());
      assertArrayEquals(new float[] {1, 2, 3, 4, 5}, blob.tensor("lm_head.bias").toFloatArray());
      assertArrayEquals(new int[] {7, 8, 9, 10}, blob.tensor("positions").toIntArray());
      blob.tensor("model.layers.0.self_attn.q_proj.weight").fillZero();
      assertArrayEquals(emb, blob.tensor("model.embed_tokens.weight").toFloatArray());
      assertArrayEquals(new float[] {1, 2, 3}, blob.tensor("model.norm.weight").toFloatArray());
    }
  }

  @Test
  void flatViewCoversEveryEntryAtItsOffset() {
    try (Device cpu = Device.cpu(); ParameterBlob blob = ParameterBlob.builder()
        .add("a", DType.F32, 3).add("b", DType.F32, 2, 20).add("c", DType.F32, 1).build(cpu)) {
      blob.tensor("a").write(new float[] {1, 2, 3});
      float[] b = uniform(9, 40, 1f);
      blob.tensor("b").write(b);
      blob.tensor("c").write(new float[] {7});
      long before = cpu.bytesInUse();
      try (Tensor flat = blob.flat(DType.F32)) {
        assertEquals(before, cpu.bytesInUse());
        assertEquals(blob.bytes() / 4, flat.numel());
        float[] all = flat.toFloatArray();
        for (String n : blob.names()) {
          float[] entry = blob.tensor(n).toFloatArray();
          int at = (int) (blob.byteOffset(n) / 4);
          assertArrayEquals(entry, java.util.Arrays.copyOfRange(all, at, at + entry.length), n);
        }
        float sum = 0;
        for (float v : all) {
          sum += Math.abs(v);
        }
        float expected = 1 + 2 + 3 + 7;
        for (float v : b) {
          expected += Math.abs(v);
        }
        assertEquals(expected, sum, 1e-4f, "padding is zero");
        flat.fillZero();
        assertArrayEquals(new float[40], blob.tensor("b").toFloatArray());
        assertMessage(blob::close, "1 live views");
      }
    }
  }

  @Test
  void ownershipAndErrors() {
    try (Device cpu = Device.cpu()) {
      ParameterBlob blob = tinyModel(cpu);
      Tensor q = blob.tensor("model.layers.0.self_attn.q_proj.weight");
      q.close();  // an entry belongs to the blob: close does nothing
      assertFalse(q.isClosed());
      Tensor row = q.rows(1, 1);
      assertMessage(blob::close, "parameter blob has 1 live views; close them first");
      assertMessage(cpu::close, "live");
      assertFalse(blob.isClosed());
      row.close();
      blob.close();
      assertMessage(q::toFloatArray, "parameter blob that was closed");
      assertMessage(() -> blob.tensor("model.norm.weight"), "is closed");

      try (ParameterBlob b2 = tinyModel(cpu)) {
        assertMessage(() -> b2.tensor("model.layers.0.mlp.up_proj.weight"),
            "no tensor named 'model.layers.0.mlp.up_proj.weight'");
      }
      assertMessage(() -> ParameterBlob.builder().add("w", DType.F32, 2).add("w", DType.F32, 3), "'w' was already added");
      assertMessage(() -> ParameterBlob.builder().add("w", DType.F32, -2), "negative");
      try (ParameterBlob empty = ParameterBlob.builder().build(cpu)) {
        assertEquals(0, empty.bytes());
        assertTrue(empty.names().isEmpty());
      }
    }
  }
}
