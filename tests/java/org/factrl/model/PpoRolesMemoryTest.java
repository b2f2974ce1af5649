package org.factrl.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Random;
import org.factrl.engine.DType;
import org.factrl.engine.Device;
import org.factrl.engine.ParameterBlob;
import org.factrl.engine.Tensor;
import org.factrl.kernels.GradMode;
import org.factrl.train.AdamW;
import org.factrl.train.AdamWConfig;
import org.junit.jupiter.api.Test;

/**
 * The four PPO roles on one base (DESIGN.md §2): policy (adapter), reference (no adapter), reward
 * (adapter + reward head, frozen), value (adapter + value head, trained). The full memory plan
 * equals, to the byte, what the device's bytes in use grew by; the reference's forward equals a
 * fresh model's with the same base, so the reference is the base itself and not a copy.
 */
class PpoRolesMemoryTest {
  private static final int B = 2;
  private static final int S = 24;

  @Test
  void fourRolesShareOneBaseAndThePlanIsWhatTheDeviceHolds() {
    ModelConfig c = ModelConfig.tiny();
    LoraSpec lora = LoraSpec.allDecoder(8, 16f);
    try (Device cpu = Device.cpu()) {
      long before = cpu.bytesInUse();
      int[] idArray = new int[B * S];
      Random r = new Random(3);
      for (int i = 0; i < idArray.length; i++) {
        idArray[i] = 5 + r.nextInt(c.vocabSize() - 5);
      }
      float[] reference;
      try (LlavaModel m = LlavaModel.create(cpu, c)) {
        m.initWeights(1, 0.02f);
        m.addAdapter("policy", lora, 2);
        m.addAdapter("reward", lora, 3);
        m.addAdapter("value", lora, 4);
        // non-zero B everywhere, so an adapter that leaked into the reference pass would show
        for (String a : m.adapterNames()) {
          ParameterBlob blob = m.adapter(a);
          for (String n : blob.names()) {
            if (n.endsWith("lora_B.weight")) {
              float[] x = new float[(int) blob.tensor(n).numel()];
              for (int i = 0; i < x.length; i++) {
                x[i] = (float) r.nextGaussian() * 0.05f;
              }
              blob.tensor(n).write(x);
            }
          }
        }
        m.addHead("reward", HeadKind.REWARD);
        m.addHead("value", HeadKind.VALUE);
        m.plan(B, S, 0, true);
        AdamWConfig opt = AdamWConfig.builder().lr(3e-5).maxGradNorm(1.0).build();
        try (TrainableGrads policyGrads = TrainableGrads.allocate(m, TrainableSet.LORA, "policy", null);
            TrainableGrads valueGrads = TrainableGrads.allocate(m, TrainableSet.LORA_AND_HEAD, "value", "value");
            AdamW policyOpt = policyGrads.adamW(opt); AdamW valueOpt = valueGrads.adamW(opt);
            Tensor ids = cpu.fromInts(idArray, B, S); Tensor end = cpu.fromInts(new int[] {S - 1, S - 5}, B);
            Tensor logits = cpu.zeros(DType.F32, B, S, c.vocabSize())) {
          LlavaModel.Inputs in = LlavaModel.Inputs.of(ids);
          // one pass of each role; the value role trains one step
          try (Tensor scores = m.score("reward", "reward", in, end, false)) {
            assertEquals(B, scores.numel());
          }
          try (Tensor values = m.values("value", "value", in, null, true);
              Tensor dValues = cpu.fromFloats(new float[B * S], B, S)) {
            valueGrads.headBackward(dValues, GradMode.OVERWRITE);
            valueOpt.step();
          }
          m.forward(null, in, LlavaModel.Outputs.logits(logits), false);
          reference = logits.toFloatArray();

          MemoryReport plan = MemoryReport.builder(m)
              .role("policy", "policy", null, TrainableSet.LORA)
              .role("reference", null, null, null)
              .role("reward", "reward", "reward", null)
              .role("value", "value", "value", TrainableSet.LORA_AND_HEAD)
              .grads("policy", policyGrads)
              .grads("value", valueGrads)
              .optimizer("policy", policyOpt)
              .optimizer("value", valueOpt)
              .build();
          long tensors = logits.numel() * 4 + ids.numel() * 4 + end.numel() * 4;  // the test's own inputs
          assertEquals(before + plan.total() + tensors, cpu.bytesInUse(), plan.toString());
          // the parts are what they say
          assertEquals(m.params().bytes(), plan.base());
          assertEquals(List.of("policy", "reward", "value"), List.copyOf(plan.adapters().keySet()));
          assertEquals(m.adapter("value").bytes(), plan.adapters().get("value"));
          assertEquals(m.head("reward").bytes(), plan.heads().get("reward"));
          assertEquals(m.adapter("policy").bytes(), plan.grads().get("policy"));
          assertEquals(m.adapter("value").bytes() + m.head("value").bytes(), plan.grads().get("value"));
          assertEquals(2 * plan.grads().get("value"), plan.optimizers().get("value"));
          // hidden + d hidden [B, S, d] F32, and the reward pass's end-index copy [B] I32 (kept for reuse)
          assertEquals((long) B * S * c.hidden() * 4 * 2 + B * 4, plan.headActivations());
          assertTrue(plan.arena() > 0);
          // the base is held once: the whole plan is far below four copies of it
          assertTrue(plan.total() < 2 * plan.base(), plan.toString());
          String table = plan.toString();
          for (String s : List.of("4 roles over one base", "base (shared by 4 roles)", "reference", "frozen",
              "LORA_AND_HEAD", "adapter 'policy'", "head 'value'", "grads 'value'", "optimizer 'policy' (m, v)",
              "activation arena", "total")) {
            assertTrue(table.contains(s), "missing '" + s + "' in\n" + table);
          }
          System.out.println(table);
        }
      }
      assertEquals(before, cpu.bytesInUse());

      // the reference role is the base: a fresh model with the same base gives the same logits
      try (LlavaModel fresh = LlavaModel.create(cpu, c); Tensor ids = cpu.fromInts(idArray, B, S);
          Tensor logits = cpu.zeros(DType.F32, B, S, c.vocabSize())) {
        fresh.initWeights(1, 0.02f);
        fresh.plan(B, S, 0, false);
        fresh.forward(null, LlavaModel.Inputs.of(ids), LlavaModel.Outputs.logits(logits), false);
        assertArrayEquals(logits.toFloatArray(), reference);
        fresh.addAdapter("policy", LoraSpec.allDecoder(8, 16f), 2);
        ParameterBlob a = fresh.adapter("policy");
        String bName = a.names().stream().filter(n -> n.endsWith("lora_B.weight")).findFirst().orElseThrow();
        float[] x = new float[(int) a.tensor(bName).numel()];
        java.util.Arrays.fill(x, 0.05f);
        a.tensor(bName).write(x);
        fresh.forward("policy", LlavaModel.Inputs.of(ids), LlavaModel.Outputs.logits(logits), false);
        assertFalse(java.util.Arrays.equals(logits.toFloatArray(), reference), "an adapter changes the logits");
      }
    }
  }
}
