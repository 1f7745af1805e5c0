package dev.kawi.tools;

import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.CodeSource;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Finds the model a command uses when {@code -m/--model} is not given: the system property
 * {@code kawi.model}, else the environment variable {@code KAWI_MODEL}, else the bundled
 * German→English model {@code models/de-en.kawi} of the installation (found from the jar's
 * location: {@code tools/target/kawi.jar} in a source checkout, or a {@code lib/} or the jar's own
 * folder in an unpacked distribution). A named file that does not exist is an error, never a
 * fallback.
 */
public final class ModelLocator {
    /** System property naming the default model. */
    static final String PROPERTY = "kawi.model";
    /** Environment variable naming the default model. */
    static final String ENV = "KAWI_MODEL";
    /** The bundled model, relative to the installation root. */
    static final String BUNDLED = "models/de-en.kawi";

    private final String property;
    private final Map<String, String> env;
    private final Path codeLocation;

    ModelLocator(String property, Map<String, String> env, Path codeLocation) {
        this.property = property;
        this.env = env;
        this.codeLocation = codeLocation;
    }

    /** The locator of this process: its system property, environment and jar. */
    public static ModelLocator ofProcess() {
        return new ModelLocator(System.getProperty(PROPERTY), System.getenv(), codeLocation());
    }

    /** The model to use: {@code explicit} when given, else the first of the property, the variable and the bundled model. */
    public Path resolve(Path explicit) {
        if (explicit != null) {
            return explicit;
        }
        if (property != null && !property.isBlank()) {
            return existing(Path.of(property.trim()), "-D" + PROPERTY);
        }
        String e = env.get(ENV);
        if (e != null && !e.isBlank()) {
            return existing(Path.of(e.trim()), ENV);
        }
        List<Path> tried = bundledCandidates();
        for (Path p : tried) {
            if (Files.isRegularFile(p)) {
                return p;
            }
        }
        StringBuilder paths = new StringBuilder();
        for (Path p : tried) {
            paths.append(paths.isEmpty() ? "" : ", ").append(p);
        }
        throw new BadInputException("no model: give -m FILE, or set " + ENV + " (or -D" + PROPERTY + "); the bundled model is missing, tried " + paths);
    }

    private static Path existing(Path p, String source) {
        if (!Files.isRegularFile(p)) {
            throw new BadInputException("no model at " + p + " (named by " + source + ")");
        }
        return p;
    }

    /** Where the bundled model may be, given where the code was loaded from. */
    List<Path> bundledCandidates() {
        // Plain loops, no streams: this runs on every start of the command line.
        List<Path> out = new ArrayList<>();
        if (codeLocation == null) {
            return out;
        }
        // The jar, or the classes folder (tests, an IDE), sits in tools/target/.
        Path dir = codeLocation.toAbsolutePath().getParent();
        if (dir == null) {
            return out;
        }
        dir = dir.toAbsolutePath().normalize();
        // tools/target/kawi.jar (or tools/target/classes) -> the checkout's root; lib/kawi.jar -> its parent; then beside the jar.
        Path up2 = dir.getParent() == null ? null : dir.getParent().getParent();
        if (up2 != null) {
            out.add(up2.resolve(BUNDLED));
        }
        if (dir.getParent() != null) {
            out.add(dir.getParent().resolve(BUNDLED));
        }
        out.add(dir.resolve(BUNDLED));
        return out;
    }

    /** The jar (or classes folder) this class was loaded from, or null when unknown. */
    private static Path codeLocation() {
        CodeSource cs = ModelLocator.class.getProtectionDomain().getCodeSource();
        if (cs == null || cs.getLocation() == null) {
            return null;
        }
        try {
            return Path.of(cs.getLocation().toURI());
        } catch (URISyntaxException | IllegalArgumentException e) {
            return null;
        }
    }
}
