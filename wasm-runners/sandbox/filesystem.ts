/**
 * wasi:filesystem for a job: two preopened directories held in memory —
 * `/inputs`, read-only, and `/outputs`, read-write and metered against the
 * output limit. There is no host file system behind them at all.
 *
 * It wraps the shim's in-memory descriptors, which already resolve every path
 * inside its directory (`..` cannot climb above it, symlinks are followed
 * only within it and may not be absolute). On top of that it refuses
 * absolute paths (WASI says they are errors; the shim would read them as
 * relative), every mutation under /inputs, and hard links (which could make
 * an input writable through /outputs), and it counts output bytes, entries
 * and the bytes of their names.
 */
import type { OutputBudget } from "./budget.ts";
import {
  type BrowserFilesystemDescriptor,
  type FileDataEntry,
  type FilesystemTypes,
  InMemoryFilesystemAdapter,
  outputStreamCreate,
} from "./shim.ts";

type Flags = FilesystemTypes.DescriptorFlags;
type OpenFlags = FilesystemTypes.OpenFlags;
type PathFlags = FilesystemTypes.PathFlags;
type Timestamp = FilesystemTypes.NewTimestamp;

const adapter = new InMemoryFilesystemAdapter();

function relative(path: string): string {
  if (path.startsWith("/")) throw "not-permitted";
  return path;
}

class DirectoryEntryStream {
  readonly #inner: { readDirectoryEntry(): FilesystemTypes.DirectoryEntry | undefined };
  constructor(inner: { readDirectoryEntry(): FilesystemTypes.DirectoryEntry | undefined }) {
    this.#inner = inner;
  }
  readDirectoryEntry(): FilesystemTypes.DirectoryEntry | undefined {
    return this.#inner.readDirectoryEntry();
  }
}

class Descriptor {
  readonly #inner: BrowserFilesystemDescriptor;
  /** The output budget when writable; undefined when read-only. */
  readonly #budget?: OutputBudget;

  constructor(inner: BrowserFilesystemDescriptor, budget?: OutputBudget) {
    this.#inner = inner;
    this.#budget = budget;
  }

  #writable(): OutputBudget {
    if (!this.#budget) throw "read-only";
    return this.#budget;
  }

  #size(): number {
    return Number(this.#inner.stat().size);
  }

  readViaStream(offset: bigint) {
    return this.#inner.readViaStream(offset);
  }

  writeViaStream(offset: bigint) {
    const budget = this.#writable();
    const inner = this.#inner;
    const stream = inner.writeViaStream(offset);
    let at = Number(offset);
    return outputStreamCreate({
      write(buf: Uint8Array) {
        const size = Number(inner.stat().size);
        const end = at + buf.byteLength;
        if (end > size) budget.resize(size, end);
        stream.checkWrite();
        stream.write(buf);
        at = end;
      },
    });
  }

  appendViaStream() {
    return this.writeViaStream(BigInt(this.#size()));
  }

  advise(offset: bigint, length: bigint, advice: FilesystemTypes.Advice): void {
    this.#inner.advise(offset, length, advice);
  }

  syncData(): void {}

  sync(): void {}

  getFlags(): Flags {
    return this.#budget ? { read: true, write: true, mutateDirectory: true } : { read: true };
  }

  getType(): FilesystemTypes.DescriptorType {
    return this.#inner.getType();
  }

  setSize(size: bigint): void {
    this.#writable().resize(this.#size(), Number(size));
    this.#inner.setSize(size);
  }

  setTimes(atime: Timestamp, mtime: Timestamp): void {
    this.#writable();
    this.#inner.setTimes(atime, mtime);
  }

  read(length: bigint, offset: bigint): [Uint8Array, boolean] {
    return this.#inner.read(length, offset);
  }

  write(buffer: Uint8Array, offset: bigint): bigint {
    const budget = this.#writable();
    const size = this.#size();
    const end = Number(offset) + buffer.byteLength;
    if (end > size) budget.resize(size, end);
    return this.#inner.write(buffer, offset);
  }

  readDirectory(): DirectoryEntryStream {
    return new DirectoryEntryStream(this.#inner.readDirectory());
  }

  createDirectoryAt(path: string): void {
    this.#writable().entry(path);
    this.#inner.createDirectoryAt(relative(path));
  }

  stat(): FilesystemTypes.DescriptorStat {
    return this.#inner.stat();
  }

  statAt(pathFlags: PathFlags, path: string): FilesystemTypes.DescriptorStat {
    return this.#inner.statAt(pathFlags, relative(path));
  }

  setTimesAt(pathFlags: PathFlags, path: string, atime: Timestamp, mtime: Timestamp): void {
    this.#writable();
    this.#inner.setTimesAt(pathFlags, relative(path), atime, mtime);
  }

  linkAt(): void {
    throw "not-permitted";
  }

  openAt(pathFlags: PathFlags, path: string, openFlags: OpenFlags, flags: Flags): Descriptor {
    relative(path);
    const mutates = openFlags.create || openFlags.truncate || flags.write || flags.mutateDirectory;
    if (mutates) this.#writable();
    if (this.#budget && (openFlags.create || openFlags.truncate)) {
      let existing: FilesystemTypes.DescriptorStat | undefined;
      try {
        existing = this.#inner.statAt(pathFlags, path);
      } catch (e) {
        if (e !== "no-entry") throw e;
      }
      if (existing === undefined && openFlags.create) this.#budget.entry(path);
      if (existing?.type === "regular-file" && openFlags.truncate) this.#budget.resize(Number(existing.size), 0);
    }
    return new Descriptor(this.#inner.openAt(pathFlags, path, openFlags, flags), this.#budget);
  }

  readlinkAt(path: string): string {
    return this.#inner.readlinkAt(relative(path));
  }

  removeDirectoryAt(path: string): void {
    this.#writable();
    this.#inner.removeDirectoryAt(relative(path));
  }

  renameAt(oldPath: string, newDescriptor: unknown, newPath: string): void {
    this.#writable();
    if (!(newDescriptor instanceof Descriptor)) throw "bad-descriptor";
    newDescriptor.#writable().name(newPath);
    this.#inner.renameAt(relative(oldPath), newDescriptor.#inner, relative(newPath));
  }

  symlinkAt(oldPath: string, newPath: string): void {
    this.#writable().entry(newPath);
    this.#inner.symlinkAt(oldPath, relative(newPath));
  }

  unlinkFileAt(path: string): void {
    this.#writable();
    this.#inner.unlinkFileAt(relative(path));
  }

  isSameObject(other: unknown): boolean {
    return other instanceof Descriptor && this.#inner.isSameObject(other.#inner);
  }

  metadataHash(): FilesystemTypes.MetadataHashValue {
    return this.#inner.metadataHash();
  }

  metadataHashAt(pathFlags: PathFlags, path: string): FilesystemTypes.MetadataHashValue {
    return this.#inner.metadataHashAt(pathFlags, relative(path));
  }
}

/** The two interfaces, over the given trees. */
export function jobFilesystem(inputs: FileDataEntry, outputs: FileDataEntry, budget: OutputBudget) {
  const directories: [Descriptor, string][] = [
    [new Descriptor(adapter.getRoot(inputs)), "/inputs"],
    [new Descriptor(adapter.getRoot(outputs), budget), "/outputs"],
  ];
  return {
    types: { Descriptor, DirectoryEntryStream, filesystemErrorCode: () => undefined },
    preopens: { getDirectories: () => [...directories] },
  };
}
