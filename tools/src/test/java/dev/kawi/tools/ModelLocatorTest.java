package dev.kawi.tools;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Which model a command uses without -m: the property, the variable, then the installation's bundled model. */
class ModelLocatorTest {
    @TempDir
    Path dir;

    /** A checkout: ROOT/tools/target/kawi.jar, and ROOT/models/de-en.kawi when {@code bundled}. */
    private Path checkout(boolean bundled) throws Exception {
        Path root = dir.resolve("kawi");
        Path jar = Files.createDirectories(root.resolve("tools/target")).resolve("kawi.jar");
        Files.writeString(jar, "jar");
        if (bundled) {
            Files.createDirectories(root.resolve("models"));
            Files.writeString(root.resolve(ModelLocator.BUNDLED), "model");
        }
        return jar;
    }

    @Test
    void explicitBeatsPropertyBeatsVariableBeatsBundled() throws Exception {
        Path jar = checkout(true);
        Path a = Files.writeString(dir.resolve("a.kawi"), "a");
        Path b = Files.writeString(dir.resolve("b.kawi"), "b");
        Path bundled = dir.resolve("kawi").resolve(ModelLocator.BUNDLED).toAbsolutePath().normalize();
        Path explicit = dir.resolve("given.kawi");
        assertEquals(explicit, new ModelLocator(a.toString(), Map.of(ModelLocator.ENV, b.toString()), jar).resolve(explicit));
        assertEquals(a, new ModelLocator(a.toString(), Map.of(ModelLocator.ENV, b.toString()), jar).resolve(null));
        assertEquals(b, new ModelLocator(null, Map.of(ModelLocator.ENV, b.toString()), jar).resolve(null));
        assertEquals(b, new ModelLocator("  ", Map.of(ModelLocator.ENV, b.toString()), jar).resolve(null));
        assertEquals(bundled, new ModelLocator(null, Map.of(), jar).resolve(null));
        // From the classes folder (tests, an IDE) as from the jar.
        Path classes = Files.createDirectories(dir.resolve("kawi/tools/target/classes"));
        assertEquals(bundled, new ModelLocator(null, Map.of(), classes).resolve(null));
    }

    @Test
    void aDistributionFindsTheModelBesideItsLibFolder() throws Exception {
        Path lib = Files.createDirectories(dir.resolve("dist/lib"));
        Path jar = Files.writeString(lib.resolve("kawi.jar"), "jar");
        Files.createDirectories(dir.resolve("dist/models"));
        Path model = Files.writeString(dir.resolve("dist").resolve(ModelLocator.BUNDLED), "m");
        assertEquals(model.toAbsolutePath().normalize(), new ModelLocator(null, Map.of(), jar).resolve(null));
    }

    @Test
    void aNamedModelThatIsMissingIsAnErrorNotAFallback() throws Exception {
        Path jar = checkout(true);
        Path missing = dir.resolve("nope.kawi");
        BadInputException e = assertThrows(BadInputException.class,
                () -> new ModelLocator(null, Map.of(ModelLocator.ENV, missing.toString()), jar).resolve(null));
        assertEquals("no model at " + missing + " (named by KAWI_MODEL)", e.getMessage());
        e = assertThrows(BadInputException.class, () -> new ModelLocator(missing.toString(), Map.of(), jar).resolve(null));
        assertEquals("no model at " + missing + " (named by -Dkawi.model)", e.getMessage());
    }

    @Test
    void noModelAnywhereNamesThePathsTried() throws Exception {
        Path jar = checkout(false);
        BadInputException e = assertThrows(BadInputException.class, () -> new ModelLocator(null, Map.of(), jar).resolve(null));
        String expected = dir.resolve("kawi").resolve(ModelLocator.BUNDLED).toAbsolutePath().normalize().toString();
        assertTrue(e.getMessage().startsWith("no model: give -m FILE, or set KAWI_MODEL (or -Dkawi.model); the bundled model is missing, tried "
                + expected + ", "), e.getMessage());
        assertTrue(!e.getMessage().contains("\n"), "one line");
    }
}
