package dev.kawi.runtime.kernels;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/** The design rule: only the kernels' simd package imports jdk.incubator.vector. */
class ConfinementTest {
    private static final java.util.regex.Pattern USE = java.util.regex.Pattern.compile("import\\s+(static\\s+)?jdk\\.incubator\\.vector|jdk\\.incubator\\.vector\\.[A-Z]");

    @Test
    void onlyTheSimdPackageImportsTheVectorApi() throws IOException {
        Path root = Path.of("src/main/java");
        assertTrue(Files.isDirectory(root), "run from the runtime module directory (surefire's default)");
        List<Path> offenders;
        List<Path> users;
        try (Stream<Path> files = Files.walk(root)) {
            List<Path> all = files.filter(p -> p.toString().endsWith(".java")).toList();
            users = all.stream().filter(ConfinementTest::importsVectorApi).toList();
            offenders = users.stream().filter(p -> !p.toString().replace('\\', '/').contains("dev/kawi/runtime/kernels/simd/")).toList();
        }
        assertEquals(List.of(), offenders);
        assertTrue(users.size() >= 2, "the simd package should be found using the Vector API: " + users);
    }

    private static boolean importsVectorApi(Path p) {
        try {
            // An import or a qualified type name; the module name in a string (the provider checks for it) is fine.
            return USE.matcher(Files.readString(p)).find();
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    @Test
    void providerPicksTheVectorKernelsWhenTheModuleIsPresent() {
        // Surefire runs with --add-modules=jdk.incubator.vector (pom.xml), so the vector kernels must be chosen.
        String d = KernelProvider.description();
        assertTrue(d.startsWith("vector-"), d);
        assertEquals(2, KernelProvider.get(2).threads());
    }
}
