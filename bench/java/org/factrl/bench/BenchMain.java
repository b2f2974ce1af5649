package org.factrl.bench;

import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.openjdk.jmh.results.RunResult;
import org.openjdk.jmh.runner.Runner;
import org.openjdk.jmh.runner.options.CommandLineOptions;
import org.openjdk.jmh.runner.options.Options;

/**
 * Runs JMH benchmarks and prints, for every benchmark class, the ratio of each baseline (libtorch,
 * OpenBLAS) to our kernel measured in the same run. Convention: in a class, methods named
 * {@code factrlX} and {@code torchX} or {@code openblasX} measure the same work X; the ratio printed
 * is time(baseline)/time(factrl) (above 1: we are faster). All benchmarks report average time per
 * operation.
 *
 * <p>Arguments are JMH's (e.g. {@code -f 1 -wi 2 -i 3 Lora}).
 */
public final class BenchMain {
  /** Method-name prefixes of the baselines a {@code factrlX} method is compared with. */
  private static final List<String> BASELINES = List.of("torch", "openblas");

  private BenchMain() {}

  public static void main(String[] args) throws Exception {
    Options options = new CommandLineOptions(args);
    Collection<RunResult> results = new Runner(options).run();
    System.out.println();
    System.out.println("Ratios (baseline time / FactRL time, same run; >1 means FactRL is faster):");
    for (String line : ratios(results)) {
      System.out.println("  " + line);
    }
  }

  static List<String> ratios(Collection<RunResult> results) {
    Map<String, Double> scores = new TreeMap<>();
    Map<String, String> params = new TreeMap<>();
    for (RunResult r : results) {
      String bench = r.getParams().getBenchmark();
      String key = bench + r.getParams().getParamsKeys().stream()
          .map(k -> " " + k + "=" + r.getParams().getParam(k)).reduce("", String::concat);
      scores.put(key, r.getPrimaryResult().getScore());
      params.put(key, r.getPrimaryResult().getScoreUnit());
    }
    List<String> lines = new ArrayList<>();
    for (Map.Entry<String, Double> e : scores.entrySet()) {
      String key = e.getKey();
      int dot = key.lastIndexOf('.', key.indexOf(' ') < 0 ? key.length() : key.indexOf(' '));
      String method = key.substring(dot + 1);
      if (!method.startsWith("factrl")) {
        continue;
      }
      for (String baseline : BASELINES) {
        String baseKey = key.substring(0, dot + 1) + baseline + method.substring("factrl".length());
        Double base = scores.get(baseKey);
        if (base != null) {
          lines.add(String.format("%-70s factrl %.4g %s, %s %.4g %s, ratio %.2fx", key, e.getValue(),
              params.get(key), baseline, base, params.get(baseKey), base / e.getValue()));
        }
      }
    }
    return lines;
  }
}
