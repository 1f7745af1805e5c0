package dev.kawi.weights;

import java.util.List;
import java.util.Map;

/** Typed, checked access to parsed JSON metadata; every failure names the field's path. */
final class Fields {
    private Fields() {
    }

    static Object require(Map<String, Object> m, String path, String key) {
        if (!m.containsKey(key)) {
            throw new MetadataException(join(path, key), "missing");
        }
        Object v = m.get(key);
        if (v == null) {
            throw new MetadataException(join(path, key), "is null");
        }
        return v;
    }

    @SuppressWarnings("unchecked")
    static Map<String, Object> object(Object v, String field) {
        if (v instanceof Map<?, ?> m) {
            return (Map<String, Object>) m;
        }
        throw new MetadataException(field, "must be a JSON object, was " + describe(v));
    }

    @SuppressWarnings("unchecked")
    static Map<String, Object> object(Map<String, Object> m, String path, String key) {
        Object v = require(m, path, key);
        // The field's path is built only for an error: metadata is read at every start-up.
        return v instanceof Map<?, ?> map ? (Map<String, Object>) map : object(v, join(path, key));
    }

    @SuppressWarnings("unchecked")
    static List<Object> array(Object v, String field) {
        if (v instanceof List<?> l) {
            return (List<Object>) l;
        }
        throw new MetadataException(field, "must be a JSON array, was " + describe(v));
    }

    @SuppressWarnings("unchecked")
    static List<Object> array(Map<String, Object> m, String path, String key) {
        Object v = require(m, path, key);
        return v instanceof List<?> list ? (List<Object>) list : array(v, join(path, key));
    }

    static long longValue(Object v, String field, long min, long max) {
        if (!(v instanceof Long l)) {
            throw new MetadataException(field, "must be an integer, was " + describe(v));
        }
        if (l < min || l > max) {
            throw new MetadataException(field, "must be in [" + min + ", " + max + "], was " + l);
        }
        return l;
    }

    static long longField(Map<String, Object> m, String path, String key, long min, long max) {
        Object v = require(m, path, key);
        if (v instanceof Long l && l >= min && l <= max) {
            return l;
        }
        return longValue(v, join(path, key), min, max);
    }

    static int intField(Map<String, Object> m, String path, String key, int min, int max) {
        return (int) longField(m, path, key, min, max);
    }

    static double doubleField(Map<String, Object> m, String path, String key) {
        Object v = require(m, path, key);
        if (v instanceof Long l) {
            return l;
        }
        if (v instanceof Double d) {
            return d;
        }
        throw new MetadataException(join(path, key), "must be a number, was " + describe(v));
    }

    static boolean boolField(Map<String, Object> m, String path, String key) {
        Object v = require(m, path, key);
        if (v instanceof Boolean b) {
            return b;
        }
        throw new MetadataException(join(path, key), "must be true or false, was " + describe(v));
    }

    static String stringValue(Object v, String field) {
        if (v instanceof String s) {
            return s;
        }
        throw new MetadataException(field, "must be a string, was " + describe(v));
    }

    static String stringField(Map<String, Object> m, String path, String key) {
        Object v = require(m, path, key);
        return v instanceof String s ? s : stringValue(v, join(path, key));
    }

    /** Reads a string field that must be one of the constants' lower-case names. */
    static <E extends Enum<E>> E enumField(Map<String, Object> m, String path, String key, Class<E> type) {
        String s = stringField(m, path, key);
        for (E e : type.getEnumConstants()) {
            if (e.name().toLowerCase(java.util.Locale.ROOT).equals(s)) {
                return e;
            }
        }
        StringBuilder allowed = new StringBuilder();
        for (E e : type.getEnumConstants()) {
            allowed.append(allowed.isEmpty() ? "" : ", ").append(e.name().toLowerCase(java.util.Locale.ROOT));
        }
        throw new MetadataException(join(path, key), "unknown value \"" + s + "\" (allowed: " + allowed + ")");
    }

    static String join(String path, String key) {
        return path.isEmpty() ? key : path + "." + key;
    }

    static String describe(Object v) {
        return switch (v) {
            case null -> "null";
            case String s -> "a string";
            case Boolean b -> "a boolean";
            case Long l -> "the integer " + l;
            case Double d -> "the number " + d;
            case Map<?, ?> m -> "an object";
            case List<?> l -> "an array";
            default -> v.getClass().getSimpleName();
        };
    }
}
