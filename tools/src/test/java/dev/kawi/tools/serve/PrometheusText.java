package dev.kawi.tools.serve;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A strict reader of the Prometheus text exposition format 0.0.4, written from the format's
 * rules (not from the server's code) to check what {@code /metrics} sends: HELP and TYPE lines,
 * samples with escaped label values, every sample in a declared family, no duplicate series,
 * and histograms with ascending {@code le}, cumulative buckets, a {@code +Inf} bucket equal to
 * {@code _count}, and a {@code _sum}.
 */
final class PrometheusText {
    private static final Pattern NAME = Pattern.compile("[a-zA-Z_:][a-zA-Z0-9_:]*");
    private static final Pattern LABEL_NAME = Pattern.compile("[a-zA-Z_][a-zA-Z0-9_]*");
    private static final Set<String> TYPES = Set.of("counter", "gauge", "histogram", "summary", "untyped");

    private PrometheusText() {
    }

    /**
     * Parses and checks an exposition; returns each series as {@code name{l1="v1",l2="v2"}}
     * (labels sorted by name, no braces when none) mapped to its value.
     *
     * @throws IllegalArgumentException naming the line of the first violation
     */
    static Map<String, Double> parse(String text) {
        if (!text.isEmpty() && !text.endsWith("\n")) {
            throw new IllegalArgumentException("the exposition must end with a newline");
        }
        Map<String, String> types = new HashMap<>();
        Set<String> helped = new java.util.HashSet<>();
        Set<String> sampled = new java.util.HashSet<>();
        Map<String, Double> out = new LinkedHashMap<>();
        // histogram family + labels without le -> (le -> count), plus the _count and _sum seen
        Map<String, TreeMap<Double, Double>> buckets = new LinkedHashMap<>();
        Map<String, Double> counts = new HashMap<>();
        Map<String, Double> sums = new HashMap<>();
        String[] lines = text.split("\n", -1);
        for (int i = 0; i < lines.length - 1; i++) {
            String line = lines[i];
            String where = "line " + (i + 1) + ": " + line;
            if (line.isEmpty()) {
                continue;
            }
            if (line.startsWith("#")) {
                String[] p = line.split(" ", 4);
                if (p.length >= 3 && p[1].equals("HELP")) {
                    require(NAME.matcher(p[2]).matches(), "bad metric name in HELP", where);
                    require(helped.add(p[2]), "second HELP for " + p[2], where);
                } else if (p.length >= 3 && p[1].equals("TYPE")) {
                    require(p.length == 4 && TYPES.contains(p[3]), "bad TYPE", where);
                    require(!types.containsKey(p[2]), "second TYPE for " + p[2], where);
                    require(!sampled.contains(p[2]), "TYPE after samples of " + p[2], where);
                    types.put(p[2], p[3]);
                }
                continue;
            }
            Matcher m = Pattern.compile("^([a-zA-Z_:][a-zA-Z0-9_:]*)(\\{(.*)\\})? (\\S+)( -?\\d+)?$").matcher(line);
            require(m.matches(), "not a sample line", where);
            String name = m.group(1);
            Map<String, String> labels = m.group(3) == null ? new TreeMap<>() : labels(m.group(3), where);
            double value = value(m.group(4), where);
            String family = family(name, types);
            require(family != null, "sample without a TYPE for its family", where);
            sampled.add(family);
            String key = key(name, labels);
            require(!out.containsKey(key), "duplicate series " + key, where);
            out.put(key, value);
            String type = types.get(family);
            if (type.equals("counter")) {
                require(value >= 0, "negative counter", where);
            }
            if (type.equals("histogram")) {
                Map<String, String> rest = new TreeMap<>(labels);
                String le = rest.remove("le");
                String series = key(family, rest);
                if (name.equals(family + "_bucket")) {
                    require(le != null, "bucket without le", where);
                    TreeMap<Double, Double> b = buckets.computeIfAbsent(series, k -> new TreeMap<>());
                    double bound = value(le, where);
                    require(b.isEmpty() || bound > b.lastKey(), "le not ascending", where);
                    require(b.isEmpty() || value >= b.lastEntry().getValue(), "buckets not cumulative", where);
                    b.put(bound, value);
                } else if (name.equals(family + "_count")) {
                    counts.put(series, value);
                } else if (name.equals(family + "_sum")) {
                    sums.put(series, value);
                } else {
                    throw new IllegalArgumentException("histogram sample " + name + " is not _bucket, _sum or _count (" + where + ")");
                }
            } else {
                require(name.equals(family), "sample name differs from its family", where);
            }
        }
        for (var e : buckets.entrySet()) {
            Double inf = e.getValue().get(Double.POSITIVE_INFINITY);
            require(inf != null, "no +Inf bucket", e.getKey());
            require(inf.equals(counts.get(e.getKey())), "+Inf bucket " + inf + " differs from _count " + counts.get(e.getKey()), e.getKey());
            require(sums.containsKey(e.getKey()), "no _sum", e.getKey());
        }
        return out;
    }

    private static String family(String name, Map<String, String> types) {
        if (types.containsKey(name)) {
            return name;
        }
        for (String suffix : List.of("_bucket", "_sum", "_count")) {
            if (name.endsWith(suffix)) {
                String f = name.substring(0, name.length() - suffix.length());
                if ("histogram".equals(types.get(f)) || "summary".equals(types.get(f))) {
                    return f;
                }
            }
        }
        return null;
    }

    private static Map<String, String> labels(String s, String where) {
        Map<String, String> labels = new TreeMap<>();
        int i = 0;
        while (i < s.length()) {
            int eq = s.indexOf('=', i);
            require(eq > i, "bad label", where);
            String name = s.substring(i, eq);
            require(LABEL_NAME.matcher(name).matches(), "bad label name " + name, where);
            require(eq + 1 < s.length() && s.charAt(eq + 1) == '"', "label value not quoted", where);
            StringBuilder v = new StringBuilder();
            int j = eq + 2;
            for (; j < s.length() && s.charAt(j) != '"'; j++) {
                char c = s.charAt(j);
                if (c == '\\') {
                    require(j + 1 < s.length(), "dangling escape", where);
                    char n = s.charAt(++j);
                    require(n == '\\' || n == '"' || n == 'n', "bad escape \\" + n, where);
                    v.append(n == 'n' ? '\n' : n);
                } else {
                    v.append(c);
                }
            }
            require(j < s.length(), "unterminated label value", where);
            require(labels.put(name, v.toString()) == null, "repeated label " + name, where);
            i = j + 1;
            if (i < s.length()) {
                require(s.charAt(i) == ',', "labels not separated by commas", where);
                i++;
            }
        }
        return labels;
    }

    private static double value(String s, String where) {
        return switch (s) {
            case "+Inf" -> Double.POSITIVE_INFINITY;
            case "-Inf" -> Double.NEGATIVE_INFINITY;
            case "NaN" -> Double.NaN;
            default -> {
                require(s.matches("[-+]?(\\d+\\.?\\d*|\\.\\d+)([eE][-+]?\\d+)?"), "bad number " + s, where);
                yield Double.parseDouble(s);
            }
        };
    }

    private static String key(String name, Map<String, String> labels) {
        if (labels.isEmpty()) {
            return name;
        }
        List<String> parts = new ArrayList<>();
        labels.forEach((k, v) -> parts.add(k + "=\"" + v + "\""));
        return name + "{" + String.join(",", parts) + "}";
    }

    private static void require(boolean ok, String problem, String where) {
        if (!ok) {
            throw new IllegalArgumentException(problem + " (" + where + ")");
        }
    }
}
