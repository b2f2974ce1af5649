package org.factrl.model;

import static org.factrl.engine.Native.checkArgument;
import static org.factrl.engine.Native.checkNotNull;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.factrl.engine.FactRlException;
import org.factrl.train.AdamW;

/**
 * The full memory plan of a model and what trains on it (issue 10 item 3): the one base, each
 * adapter set and head by name, the head passes' activations, each gradient set, each optimizer's
 * state, the activation arena, the model's workspace and each KV cache — and the roles that share
 * the base. {@link #total()} is what {@link org.factrl.engine.Device#bytesInUse()} grows by for all
 * of it; {@link #toString()} is the table printed at the start of PPO.
 *
 * <p>Built by {@link #builder(LlavaModel)}, which reads the model's parts itself; the caller adds
 * what lives outside the model (gradients, optimizers, KV caches: pass {@code KvCache.bytes()}) and
 * names the roles. Immutable; the maps keep insertion order.
 *
 * @param device the device, in words
 * @param base the base parameter blob (stored once, whatever the number of roles)
 * @param adapters each adapter set's blob, by name
 * @param heads each head's blob, by name
 * @param headActivations the head passes' scratch (hidden states, d hidden, index copy)
 * @param grads each gradient set, by label
 * @param optimizers each optimizer's state (AdamW m and v), by label
 * @param arena the model's activation arena
 * @param workspace the model's other scratch
 * @param kvCaches each KV cache, by label
 * @param roles the roles over this base
 */
public record MemoryReport(String device, long base, Map<String, Long> adapters, Map<String, Long> heads,
    long headActivations, Map<String, Long> grads, Map<String, Long> optimizers, long arena, long workspace,
    Map<String, Long> kvCaches, List<Role> roles) {

  /**
   * A role over the shared base: the adapter set and head its calls name (null: none) and what it
   * trains (null: frozen).
   */
  public record Role(String name, String adapter, String head, TrainableSet trains) {
    public Role {
      checkNotNull(name, "name");
    }
  }

  public MemoryReport {
    adapters = Collections.unmodifiableMap(new LinkedHashMap<>(adapters));
    heads = Collections.unmodifiableMap(new LinkedHashMap<>(heads));
    grads = Collections.unmodifiableMap(new LinkedHashMap<>(grads));
    optimizers = Collections.unmodifiableMap(new LinkedHashMap<>(optimizers));
    kvCaches = Collections.unmodifiableMap(new LinkedHashMap<>(kvCaches));
    roles = List.copyOf(roles);
  }

  /** A builder holding {@code model}'s parts as they are now. */
  public static Builder builder(LlavaModel model) {
    return new Builder(model);
  }

  /** Every byte listed: what the device holds for this model and what trains on it. */
  public long total() {
    return base + sum(adapters) + sum(heads) + headActivations + sum(grads) + sum(optimizers) + arena + workspace
        + sum(kvCaches);
  }

  private static long sum(Map<String, Long> m) {
    long s = 0;
    for (long v : m.values()) {
      s += v;
    }
    return s;
  }

  /** Collects the parts outside the model and the roles. */
  public static final class Builder {
    private final LlavaModel model;
    private final Map<String, Long> grads = new LinkedHashMap<>();
    private final Map<String, Long> optimizers = new LinkedHashMap<>();
    private final Map<String, Long> kvCaches = new LinkedHashMap<>();
    private final List<Role> roles = new ArrayList<>();

    private Builder(LlavaModel model) {
      this.model = checkNotNull(model, "model");
    }

    /** A gradient set's blobs. */
    public Builder grads(String label, TrainableGrads g) {
      checkNotNull(g, "grads");
      return grads(label, g.bytes());
    }

    public Builder grads(String label, long bytes) {
      put(grads, "grads", label, bytes);
      return this;
    }

    /** An optimizer's state (m and v). */
    public Builder optimizer(String label, AdamW optimizer) {
      checkNotNull(optimizer, "optimizer");
      return optimizer(label, optimizer.stateBytes());
    }

    public Builder optimizer(String label, long bytes) {
      put(optimizers, "optimizer", label, bytes);
      return this;
    }

    /** A KV cache's bytes ({@code KvCache.bytes()}: K, V and the decode step's scratch). */
    public Builder kvCache(String label, long bytes) {
      put(kvCaches, "kvCache", label, bytes);
      return this;
    }

    /** A role over the base; its adapter set and head must exist in the model. */
    public Builder role(String name, String adapter, String head, TrainableSet trains) {
      checkArgument(roles.stream().noneMatch(r -> r.name().equals(name)), "name", "role '%s' was already added", name);
      if (adapter != null) {
        model.adapter(adapter);
      }
      if (head != null) {
        model.head(head);
      }
      roles.add(new Role(name, adapter, head, trains));
      return this;
    }

    private static void put(Map<String, Long> m, String what, String label, long bytes) {
      checkNotNull(label, "label");
      checkArgument(bytes >= 0, "bytes", "of %s '%s' is negative (%d)", what, label, bytes);
      checkArgument(!m.containsKey(label), "label", "%s '%s' was already added", what, label);
      m.put(label, bytes);
    }

    /** The plan; the per-adapter bytes are checked against the native model's sum. */
    public MemoryReport build() {
      MemoryPlan mp = model.memoryPlan();
      Map<String, Long> adapters = new LinkedHashMap<>();
      for (String a : model.adapterNames()) {
        adapters.put(a, model.adapter(a).bytes());
      }
      if (sum(adapters) != mp.adapters()) {
        throw new FactRlException(FactRlException.Status.INTERNAL, "adapter blobs hold " + sum(adapters)
            + " bytes, the native memory plan says " + mp.adapters());
      }
      Map<String, Long> heads = new LinkedHashMap<>();
      for (Map.Entry<String, Head> h : model.headsByName().entrySet()) {
        heads.put(h.getKey(), h.getValue().bytes());
      }
      return new MemoryReport(model.device().toString(), mp.base(), adapters, heads, model.headScratchBytes(), grads,
          optimizers, mp.arena(), mp.workspace(), kvCaches, roles);
    }
  }

  @Override
  public String toString() {
    StringBuilder sb = new StringBuilder();
    sb.append("Memory plan on ").append(device).append(": ").append(roles.size()).append(" role")
        .append(roles.size() == 1 ? "" : "s").append(" over one base\n");
    if (!roles.isEmpty()) {
      sb.append(String.format(Locale.ROOT, "  %-14s %-14s %-14s %s%n", "role", "adapter", "head", "trains"));
      for (Role r : roles) {
        sb.append(String.format(Locale.ROOT, "  %-14s %-14s %-14s %s%n", r.name(), orDash(r.adapter()),
            orDash(r.head()), r.trains() == null ? "frozen" : r.trains().name()));
      }
      sb.append('\n');
    }
    sb.append(String.format(Locale.ROOT, "  %-40s %15s %11s%n", "part", "bytes", "MiB"));
    row(sb, "base" + (roles.size() > 1 ? " (shared by " + roles.size() + " roles)" : ""), base);
    adapters.forEach((k, v) -> row(sb, "adapter '" + k + "'", v));
    heads.forEach((k, v) -> row(sb, "head '" + k + "'", v));
    grads.forEach((k, v) -> row(sb, "grads '" + k + "'", v));
    optimizers.forEach((k, v) -> row(sb, "optimizer '" + k + "' (m, v)", v));
    row(sb, "activation arena", arena);
    row(sb, "head activations", headActivations);
    if (workspace != 0) {
      row(sb, "workspace", workspace);
    }
    kvCaches.forEach((k, v) -> row(sb, "KV cache '" + k + "'", v));
    row(sb, "total", total());
    return sb.toString();
  }

  private static String orDash(String s) {
    return s == null ? "-" : s;
  }

  private static void row(StringBuilder sb, String label, long bytes) {
    sb.append(String.format(Locale.ROOT, "  %-40s %,15d %11.2f%n", label, bytes, bytes / (1024.0 * 1024.0)));
  }
}
