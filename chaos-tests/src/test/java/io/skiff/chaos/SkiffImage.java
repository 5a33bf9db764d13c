package io.skiff.chaos;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Assumptions;
import org.slf4j.LoggerFactory;
import org.testcontainers.DockerClientFactory;
import org.testcontainers.images.builder.ImageFromDockerfile;

/**
 * The broker's runtime image, built from {@code deploy/docker/Dockerfile} exactly as an operator
 * builds it, with the packaged broker ({@code broker/target}) as its only payload. The base image
 * is {@code skiff-base:25} (a local Debian image with a Java 25 runtime, which {@code
 * deploy/docker/build-base-image.sh} builds, run by {@code .ci/run}, because no registry is
 * reachable in CI), or the {@code skiff.test.base.image} system property.
 *
 * <p>{@link #requireDocker} turns a missing Docker daemon, base image or broker package into a
 * skipped test with a message saying what to do. Stateless; thread-safe.
 */
final class SkiffImage {
  static final String BASE_IMAGE = System.getProperty("skiff.test.base.image", "skiff-base:25");
  private static final String VERSION = "0.1.0-SNAPSHOT";

  private SkiffImage() {}

  /** The repository root (the build context of the Dockerfile). */
  static Path repoRoot() {
    return Path.of(System.getProperty("skiff.repo.root", "..")).toAbsolutePath().normalize();
  }

  /**
   * Skips the calling test, with the reason, unless an image can be built and run here. The reason
   * is logged too: Surefire shows a class skipped in {@code @BeforeAll} as "Tests run: 0" and
   * nothing more.
   */
  static void requireDocker() {
    final String missing = missing();
    if (missing != null) {
      LoggerFactory.getLogger(SkiffImage.class).warn("container tests skipped: {}", missing);
      Assumptions.assumeTrue(false, missing);
    }
  }

  /** What is missing to run the container tests, or null. */
  private static String missing() {
    if (!DockerClientFactory.instance().isDockerAvailable()) {
      return "Docker is not available: start dockerd (see .ci/run) to run the container tests";
    }
    if (!baseImagePresent()) {
      return "base image "
          + BASE_IMAGE
          + " is missing: build it with deploy/docker/build-base-image.sh (.ci/run does)";
    }
    if (!Files.isRegularFile(brokerJar())) {
      return brokerJar() + " is missing: package the broker first (./mvnw package -pl broker -am)";
    }
    return null;
  }

  private static boolean baseImagePresent() {
    try {
      DockerClientFactory.instance().client().inspectImageCmd(BASE_IMAGE).exec();
      return true;
    } catch (RuntimeException e) {
      return false;
    }
  }

  private static Path brokerJar() {
    return repoRoot().resolve("broker/target/skiff-broker-" + VERSION + ".jar");
  }

  /** The image definition; Testcontainers builds it (from Docker's cache when unchanged). */
  static ImageFromDockerfile build() {
    final Path root = repoRoot();
    // Tagged after its base, so a build over another base (another checkout, an older Java) does
    // not take over the tag between this build and the containers that run it.
    final String tag = "skiff-broker-test:" + BASE_IMAGE.replaceAll("[^A-Za-z0-9_.-]", "-");
    return new ImageFromDockerfile(tag, false)
        .withBuildArg("BASE_IMAGE", BASE_IMAGE)
        .withFileFromPath("Dockerfile", root.resolve("deploy/docker/Dockerfile"))
        .withFileFromPath("deploy/docker", root.resolve("deploy/docker"))
        .withFileFromPath("deploy/jvm", root.resolve("deploy/jvm"))
        .withFileFromPath("broker/target/lib", root.resolve("broker/target/lib"))
        .withFileFromPath("broker/target/skiff-broker-" + VERSION + ".jar", brokerJar());
  }
}
