package io.skiff.log;

import java.io.IOException;
import java.net.URI;
import java.nio.ByteBuffer;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.ReadableByteChannel;
import java.nio.channels.SeekableByteChannel;
import java.nio.channels.WritableByteChannel;
import java.nio.file.AccessMode;
import java.nio.file.CopyOption;
import java.nio.file.DirectoryStream;
import java.nio.file.FileStore;
import java.nio.file.FileSystem;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.OpenOption;
import java.nio.file.Path;
import java.nio.file.PathMatcher;
import java.nio.file.WatchEvent;
import java.nio.file.WatchKey;
import java.nio.file.WatchService;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.FileAttribute;
import java.nio.file.attribute.FileAttributeView;
import java.nio.file.attribute.UserPrincipalLookupService;
import java.nio.file.spi.FileSystemProvider;
import java.util.HashMap;
import java.util.Iterator;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;

/**
 * A test file system over a real directory that remembers what an fsync made durable, so that a
 * power cut can be simulated: {@link #powerCut} writes, into another real directory, only what a
 * POSIX file system must keep. The model is the pessimistic one POSIX allows:
 *
 * <ul>
 *   <li>a file's bytes are durable as of its last {@code FileChannel.force}; a file never forced
 *       comes back empty (writes through a mapping count only once the file's channel is forced);
 *   <li>a directory's entries (creations, renames, deletions) are durable as of its last fsync
 *       ({@code FileChannel.open(dir, READ).force(true)}); a directory never fsynced comes back
 *       empty, and a directory whose own entry in its parent was never made durable is gone.
 * </ul>
 *
 * <p>Everything under the root when the file system is created counts as durable. Files are told
 * apart by an identity that survives renames (as an inode does) and is new for every created file.
 * Paths of this file system have no {@code toFile()}: code under test that reaches for {@code
 * java.io.File} fails loudly instead of escaping the model.
 *
 * <p>Thread-safe: the bookkeeping is synchronized on the file system.
 */
public final class PowerCutFileSystem extends FileSystem {
  private static final Object DIRECTORY = new Object();

  private final Path realRoot;
  private final Provider provider = new Provider();
  private final Map<Object, Long> idByInode = new HashMap<>();
  private final Map<Long, byte[]> durableContent = new HashMap<>();
  private final Map<Path, Map<String, Object>> durableEntries = new HashMap<>();
  private long nextId;
  private long fileForces;

  private PowerCutFileSystem(Path realRoot) throws IOException {
    this.realRoot = realRoot.toAbsolutePath().normalize();
    try (Stream<Path> all = Files.walk(this.realRoot)) {
      for (Path p : (Iterable<Path>) all::iterator) {
        if (Files.isDirectory(p)) {
          syncDirectory(p);
        } else {
          syncFile(p);
        }
      }
    }
  }

  /** A file system over {@code realRoot}, whose present content counts as durable. */
  public static PowerCutFileSystem over(Path realRoot) throws IOException {
    return new PowerCutFileSystem(realRoot);
  }

  /** The root directory, as a path of this file system. */
  public Path root() {
    return wrap(realRoot);
  }

  /** How many times a file (not a directory) was forced through this file system. */
  public synchronized long fileForces() {
    return fileForces;
  }

  /** {@code path} of this file system as a path of the real one. */
  public Path real(Path path) {
    return ((WrappedPath) path).real;
  }

  /**
   * Writes what a power cut at this moment would leave of the root into {@code target} (an empty
   * real directory). The files under the root are left as they are.
   */
  public synchronized void powerCut(Path target) throws IOException {
    restore(realRoot, target);
  }

  private void restore(Path realDir, Path target) throws IOException {
    final Map<String, Object> entries = durableEntries.getOrDefault(realDir, Map.of());
    for (Map.Entry<String, Object> entry : entries.entrySet()) {
      final Path child = target.resolve(entry.getKey());
      if (entry.getValue() == DIRECTORY) {
        Files.createDirectory(child);
        restore(realDir.resolve(entry.getKey()), child);
      } else {
        Files.write(child, durableContent.getOrDefault((Long) entry.getValue(), new byte[0]));
      }
    }
  }

  private synchronized long idOf(Path real) throws IOException {
    final Object inode =
        Files.readAttributes(real, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS).fileKey();
    return idByInode.computeIfAbsent(inode, k -> nextId++);
  }

  private synchronized void forget(Path real) throws IOException {
    final Object inode =
        Files.readAttributes(real, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS).fileKey();
    final Long id = idByInode.remove(inode);
    if (id != null && !durableEntries.values().stream().anyMatch(e -> e.containsValue(id))) {
      durableContent.remove(id);
    }
  }

  private synchronized void syncFile(Path real) throws IOException {
    fileForces++;
    durableContent.put(idOf(real), Files.readAllBytes(real));
  }

  private synchronized void syncDirectory(Path real) throws IOException {
    final Map<String, Object> entries = new HashMap<>();
    try (DirectoryStream<Path> children = Files.newDirectoryStream(real)) {
      for (Path child : children) {
        entries.put(
            child.getFileName().toString(),
            Files.isDirectory(child, LinkOption.NOFOLLOW_LINKS) ? DIRECTORY : idOf(child));
      }
    }
    durableEntries.put(real.toAbsolutePath().normalize(), entries);
  }

  private WrappedPath wrap(Path real) {
    return new WrappedPath(this, real);
  }

  private static Path unwrap(Path path) {
    if (!(path instanceof WrappedPath wrapped)) {
      throw new IllegalArgumentException("not a path of the power-cut file system: " + path);
    }
    return wrapped.real;
  }

  // ---------------------------------------------------------------- FileSystem

  @Override
  public FileSystemProvider provider() {
    return provider;
  }

  @Override
  public void close() {}

  @Override
  public boolean isOpen() {
    return true;
  }

  @Override
  public boolean isReadOnly() {
    return false;
  }

  @Override
  public String getSeparator() {
    return realRoot.getFileSystem().getSeparator();
  }

  @Override
  public Iterable<Path> getRootDirectories() {
    return Set.of(wrap(realRoot.getRoot()));
  }

  @Override
  public Iterable<FileStore> getFileStores() {
    return realRoot.getFileSystem().getFileStores();
  }

  @Override
  public Set<String> supportedFileAttributeViews() {
    return realRoot.getFileSystem().supportedFileAttributeViews();
  }

  @Override
  public Path getPath(String first, String... more) {
    return wrap(realRoot.getFileSystem().getPath(first, more));
  }

  @Override
  public PathMatcher getPathMatcher(String syntaxAndPattern) {
    final PathMatcher matcher = realRoot.getFileSystem().getPathMatcher(syntaxAndPattern);
    return path -> matcher.matches(unwrap(path));
  }

  @Override
  public UserPrincipalLookupService getUserPrincipalLookupService() {
    return realRoot.getFileSystem().getUserPrincipalLookupService();
  }

  @Override
  public WatchService newWatchService() {
    throw new UnsupportedOperationException("no watch service in the power-cut file system");
  }

  // ---------------------------------------------------------------- provider

  private final class Provider extends FileSystemProvider {
    private FileSystemProvider real() {
      return realRoot.getFileSystem().provider();
    }

    @Override
    public String getScheme() {
      return "powercut";
    }

    @Override
    public FileSystem newFileSystem(URI uri, Map<String, ?> env) {
      throw new UnsupportedOperationException();
    }

    @Override
    public FileSystem getFileSystem(URI uri) {
      return PowerCutFileSystem.this;
    }

    @Override
    public Path getPath(URI uri) {
      throw new UnsupportedOperationException();
    }

    @Override
    public SeekableByteChannel newByteChannel(
        Path path, Set<? extends OpenOption> options, FileAttribute<?>... attrs)
        throws IOException {
      return newFileChannel(path, options, attrs);
    }

    @Override
    public FileChannel newFileChannel(
        Path path, Set<? extends OpenOption> options, FileAttribute<?>... attrs)
        throws IOException {
      final Path real = unwrap(path);
      return new TrackedChannel(real, real().newFileChannel(real, options, attrs));
    }

    @Override
    public DirectoryStream<Path> newDirectoryStream(
        Path dir, DirectoryStream.Filter<? super Path> filter) throws IOException {
      final DirectoryStream<Path> stream =
          real().newDirectoryStream(unwrap(dir), p -> filter.accept(wrap(p)));
      return new DirectoryStream<>() {
        @Override
        public Iterator<Path> iterator() {
          final Iterator<Path> it = stream.iterator();
          return new Iterator<>() {
            @Override
            public boolean hasNext() {
              return it.hasNext();
            }

            @Override
            public Path next() {
              return wrap(it.next());
            }
          };
        }

        @Override
        public void close() throws IOException {
          stream.close();
        }
      };
    }

    @Override
    public void createDirectory(Path dir, FileAttribute<?>... attrs) throws IOException {
      real().createDirectory(unwrap(dir), attrs);
    }

    @Override
    public void delete(Path path) throws IOException {
      final Path real = unwrap(path);
      if (!Files.exists(real, LinkOption.NOFOLLOW_LINKS)) {
        throw new NoSuchFileException(path.toString());
      }
      if (!Files.isDirectory(real, LinkOption.NOFOLLOW_LINKS)) {
        forget(real);
      }
      real().delete(real);
    }

    @Override
    public void copy(Path source, Path target, CopyOption... options) throws IOException {
      real().copy(unwrap(source), unwrap(target), options);
    }

    @Override
    public void move(Path source, Path target, CopyOption... options) throws IOException {
      final Path realTarget = unwrap(target);
      if (Files.isRegularFile(realTarget, LinkOption.NOFOLLOW_LINKS)) {
        forget(realTarget); // replaced: its inode number may come back for a new file
      }
      real().move(unwrap(source), realTarget, options);
    }

    @Override
    public boolean isSameFile(Path path, Path path2) throws IOException {
      return real().isSameFile(unwrap(path), unwrap(path2));
    }

    @Override
    public boolean isHidden(Path path) throws IOException {
      return real().isHidden(unwrap(path));
    }

    @Override
    public FileStore getFileStore(Path path) throws IOException {
      return real().getFileStore(unwrap(path));
    }

    @Override
    public void checkAccess(Path path, AccessMode... modes) throws IOException {
      real().checkAccess(unwrap(path), modes);
    }

    @Override
    public <V extends FileAttributeView> V getFileAttributeView(
        Path path, Class<V> type, LinkOption... options) {
      return real().getFileAttributeView(unwrap(path), type, options);
    }

    @Override
    public <A extends BasicFileAttributes> A readAttributes(
        Path path, Class<A> type, LinkOption... options) throws IOException {
      return real().readAttributes(unwrap(path), type, options);
    }

    @Override
    public Map<String, Object> readAttributes(Path path, String attributes, LinkOption... options)
        throws IOException {
      return real().readAttributes(unwrap(path), attributes, options);
    }

    @Override
    public void setAttribute(Path path, String attribute, Object value, LinkOption... options)
        throws IOException {
      real().setAttribute(unwrap(path), attribute, value, options);
    }
  }

  // ---------------------------------------------------------------- channel

  /** A file channel whose {@code force} records what it made durable. */
  private final class TrackedChannel extends FileChannel {
    private final Path real;
    private final FileChannel delegate;

    TrackedChannel(Path real, FileChannel delegate) {
      this.real = real;
      this.delegate = delegate;
    }

    @Override
    public void force(boolean metaData) throws IOException {
      delegate.force(metaData);
      if (Files.isDirectory(real)) {
        syncDirectory(real);
      } else {
        syncFile(real);
      }
    }

    @Override
    public int read(ByteBuffer dst) throws IOException {
      return delegate.read(dst);
    }

    @Override
    public long read(ByteBuffer[] dsts, int offset, int length) throws IOException {
      return delegate.read(dsts, offset, length);
    }

    @Override
    public int write(ByteBuffer src) throws IOException {
      return delegate.write(src);
    }

    @Override
    public long write(ByteBuffer[] srcs, int offset, int length) throws IOException {
      return delegate.write(srcs, offset, length);
    }

    @Override
    public long position() throws IOException {
      return delegate.position();
    }

    @Override
    public FileChannel position(long newPosition) throws IOException {
      delegate.position(newPosition);
      return this;
    }

    @Override
    public long size() throws IOException {
      return delegate.size();
    }

    @Override
    public FileChannel truncate(long size) throws IOException {
      delegate.truncate(size);
      return this;
    }

    @Override
    public long transferTo(long position, long count, WritableByteChannel target)
        throws IOException {
      return delegate.transferTo(position, count, target);
    }

    @Override
    public long transferFrom(ReadableByteChannel src, long position, long count)
        throws IOException {
      return delegate.transferFrom(src, position, count);
    }

    @Override
    public int read(ByteBuffer dst, long position) throws IOException {
      return delegate.read(dst, position);
    }

    @Override
    public int write(ByteBuffer src, long position) throws IOException {
      return delegate.write(src, position);
    }

    @Override
    public MappedByteBuffer map(MapMode mode, long position, long size) throws IOException {
      return delegate.map(mode, position, size);
    }

    @Override
    public FileLock lock(long position, long size, boolean shared) throws IOException {
      return delegate.lock(position, size, shared);
    }

    @Override
    public FileLock tryLock(long position, long size, boolean shared) throws IOException {
      return delegate.tryLock(position, size, shared);
    }

    @Override
    protected void implCloseChannel() throws IOException {
      delegate.close();
    }
  }

  // ---------------------------------------------------------------- path

  /** A real path seen through the power-cut file system. */
  private static final class WrappedPath implements Path {
    private final PowerCutFileSystem fs;
    private final Path real;

    WrappedPath(PowerCutFileSystem fs, Path real) {
      this.fs = fs;
      this.real = real;
    }

    private Path wrapOrNull(Path p) {
      return p == null ? null : new WrappedPath(fs, p);
    }

    @Override
    public FileSystem getFileSystem() {
      return fs;
    }

    @Override
    public boolean isAbsolute() {
      return real.isAbsolute();
    }

    @Override
    public Path getRoot() {
      return wrapOrNull(real.getRoot());
    }

    @Override
    public Path getFileName() {
      return wrapOrNull(real.getFileName());
    }

    @Override
    public Path getParent() {
      return wrapOrNull(real.getParent());
    }

    @Override
    public int getNameCount() {
      return real.getNameCount();
    }

    @Override
    public Path getName(int index) {
      return wrapOrNull(real.getName(index));
    }

    @Override
    public Path subpath(int beginIndex, int endIndex) {
      return wrapOrNull(real.subpath(beginIndex, endIndex));
    }

    @Override
    public boolean startsWith(Path other) {
      return other instanceof WrappedPath w && real.startsWith(w.real);
    }

    @Override
    public boolean endsWith(Path other) {
      return other instanceof WrappedPath w && real.endsWith(w.real);
    }

    @Override
    public Path normalize() {
      return wrapOrNull(real.normalize());
    }

    @Override
    public Path resolve(Path other) {
      return wrapOrNull(real.resolve(unwrap(other)));
    }

    @Override
    public Path resolve(String other) {
      return wrapOrNull(real.resolve(other));
    }

    @Override
    public Path relativize(Path other) {
      return wrapOrNull(real.relativize(unwrap(other)));
    }

    @Override
    public URI toUri() {
      return real.toUri();
    }

    @Override
    public Path toAbsolutePath() {
      return wrapOrNull(real.toAbsolutePath());
    }

    @Override
    public Path toRealPath(LinkOption... options) throws IOException {
      return wrapOrNull(real.toRealPath(options));
    }

    @Override
    public WatchKey register(
        WatchService watcher, WatchEvent.Kind<?>[] events, WatchEvent.Modifier... modifiers) {
      throw new UnsupportedOperationException("no watch service in the power-cut file system");
    }

    @Override
    public int compareTo(Path other) {
      return real.compareTo(unwrap(other));
    }

    @Override
    public boolean equals(Object o) {
      return o instanceof WrappedPath w && w.fs == fs && w.real.equals(real);
    }

    @Override
    public int hashCode() {
      return real.hashCode();
    }

    @Override
    public String toString() {
      return real.toString();
    }
  }
}
