package org.factrl.cli;

import com.google.common.collect.ImmutableSet;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * The options of one command: {@code --name value}, {@code --name=value} and bare flags, plus
 * {@code -h} / {@code --help} for every command. Anything not declared (an unknown option, a
 * positional argument), a missing value, a repeated option or a malformed number is a {@link
 * UsageException} naming it: no command ignores part of its command line.
 */
final class Options {
  private final Map<String, String> values = new HashMap<>();
  private final Map<String, List<String>> repeated = new HashMap<>();
  private final Set<String> flags = new HashSet<>();
  private boolean help;

  private Options() {}

  /** Parses {@code args} against the declared valued options and flags (names without "--"). */
  static Options parse(List<String> args, Set<String> valued, Set<String> flagNames) {
    return parse(args, valued, flagNames, Set.of());
  }

  /**
   * As {@link #parse(List, Set, Set)}, where the valued options in {@code repeatable} may be given
   * more than once ({@code --pope a --pope b}); read them with {@link #values}.
   */
  static Options parse(List<String> args, Set<String> valued, Set<String> flagNames, Set<String> repeatable) {
    Options o = new Options();
    for (int i = 0; i < args.size(); i++) {
      String a = args.get(i);
      if (a.equals("-h") || a.equals("--help")) {
        o.help = true;
        continue;
      }
      if (!a.startsWith("--") || a.length() == 2) {
        throw new UsageException("unexpected argument '" + a + "'");
      }
      String name = a.substring(2);
      String value = null;
      int eq = name.indexOf('=');
      if (eq >= 0) {
        value = name.substring(eq + 1);
        name = name.substring(0, eq);
      }
      if (flagNames.contains(name)) {
        if (value != null) {
          throw new UsageException("--" + name + " takes no value");
        }
        o.flags.add(name);
      } else if (valued.contains(name)) {
        if (value == null) {
          if (i + 1 >= args.size() || args.get(i + 1).startsWith("--")) {
            throw new UsageException("--" + name + " needs a value");
          }
          value = args.get(++i);
        }
        if (repeatable.contains(name)) {
          o.repeated.computeIfAbsent(name, k -> new java.util.ArrayList<>()).add(value);
        } else if (o.values.put(name, value) != null) {
          throw new UsageException("--" + name + " given twice");
        }
      } else {
        ImmutableSet<String> known = ImmutableSet.<String>builder().addAll(valued).addAll(flagNames).build();
        throw new UsageException("unknown option --" + name + (known.isEmpty() ? " (it takes no options)"
            : " (known: " + String.join(", ", known.stream().sorted().map(n -> "--" + n).toList()) + ")"));
      }
    }
    return o;
  }

  /** Whether {@code -h} or {@code --help} was given. */
  boolean helpRequested() {
    return help;
  }

  boolean flag(String name) {
    return flags.contains(name);
  }

  Optional<String> value(String name) {
    return Optional.ofNullable(values.get(name));
  }

  /** Every value of a repeatable option, in command-line order (empty when absent). */
  List<String> values(String name) {
    return List.copyOf(repeated.getOrDefault(name, List.of()));
  }

  String required(String name) {
    return value(name).orElseThrow(() -> new UsageException("--" + name + " is required"));
  }

  /** An integer in {@code [min, max]}, or {@code otherwise} when the option is absent. */
  long integer(String name, long otherwise, long min, long max) {
    Optional<String> v = value(name);
    if (v.isEmpty()) {
      return otherwise;
    }
    long n;
    try {
      n = Long.parseLong(v.get().replace("_", ""));
    } catch (NumberFormatException e) {
      throw new UsageException("--" + name + " expects an integer, got '" + v.get() + "'");
    }
    if (n < min || n > max) {
      throw new UsageException("--" + name + " must be in " + min + ".." + max + ", got " + n);
    }
    return n;
  }
}
