package dev.kawi.trainer.vocab;

import dev.kawi.weights.Json;
import dev.kawi.weights.MetadataException;
import dev.kawi.weights.TempFiles;
import dev.kawi.weights.TokenizerSpec;
import dev.kawi.weights.WeightFileException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Map;

/**
 * Vocabulary files: a {@link TokenizerSpec} as a JSON object of exactly the shape of the
 * {@code tokenizer} object in a {@code .kawi} file's metadata (see FORMAT.md), UTF-8, one merge
 * pair per line. The same spec always gives the same bytes.
 */
public final class VocabFiles {
    private VocabFiles() {
    }

    /** The file's text for spec (pretty-printed JSON ending with a newline). */
    public static String toJson(TokenizerSpec spec) {
        return Json.writePretty(spec.toJson()) + "\n";
    }

    /** Writes spec to file atomically: a temporary file in the same folder, then a rename. */
    public static void write(TokenizerSpec spec, Path file) throws IOException {
        byte[] bytes = toJson(spec).getBytes(StandardCharsets.UTF_8);
        Path abs = file.toAbsolutePath();
        Path dir = abs.getParent();
        Path temp = TempFiles.besides(abs);
        try {
            Files.write(temp, bytes);
            try {
                Files.move(temp, abs, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(temp, abs, StandardCopyOption.REPLACE_EXISTING);
            }
        } finally {
            Files.deleteIfExists(temp);
        }
    }

    /**
     * Reads a vocabulary file.
     *
     * @throws WeightFileException naming the file and the bad field or character offset, for a
     *                             file that is not UTF-8, not JSON or not a valid tokenizer object
     * @throws IOException         if the file cannot be read
     */
    public static TokenizerSpec read(Path file) throws IOException {
        byte[] bytes = Files.readAllBytes(file);
        String text;
        try {
            text = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(bytes)).toString();
        } catch (CharacterCodingException e) {
            throw new WeightFileException(file, "not a vocabulary file: not UTF-8", null);
        }
        Object json;
        try {
            json = Json.parse(text);
        } catch (Json.ParseException e) {
            throw new WeightFileException(file, "not a vocabulary file: " + e.getMessage(), null);
        }
        if (!(json instanceof Map<?, ?> map)) {
            throw new WeightFileException(file, "not a vocabulary file: expected a JSON object (the tokenizer object of a .kawi file)", null);
        }
        try {
            @SuppressWarnings("unchecked")
            Map<String, Object> m = (Map<String, Object>) map;
            return TokenizerSpec.fromJson(m);
        } catch (MetadataException e) {
            throw new WeightFileException(file, "invalid vocabulary: " + e.getMessage(), null);
        }
    }
}
