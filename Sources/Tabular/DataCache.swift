import Foundation
import LinearAlgebra
import NeuralNetwork

#if canImport(Glibc)
  import Glibc
#endif

/// What happened to a data cache while a fit used it (an entry rebuilt, a
/// partial file removed), for the user to read.
package final class CacheLog {
  package var notes: [String] = []
  package init() {}
}

/// The cache of one CSV file: `FILE.csv.blasnet-cache/` unless `--cache` names a folder.
///
/// An entry is a JSON record and `.npy` arrays whose names start with
/// `rows-KEY` (pass 1: labels and lines) or `x-KEY` (passes 2 and 3: the
/// encoder and the encoded rows), KEY a hash of the file's version, the
/// options that shape the entry and ``format``. Nothing in it is trusted: the
/// record holds checksums of every array (per block for the encoded rows),
/// checked when the entry is read; a failed check rebuilds the entry.
package struct DataCache {
  package let folder: String
  /// Identifies the file's version: its size and modification time (not its
  /// inode, so that a copy with its time kept, on another machine, matches).
  package let identity: String
  /// The file's device and inode when this run opened it: a file replaced by
  /// another (renamed over it) during the run is a change, even with the same size and time.
  let inode: (device: UInt64, inode: UInt64)
  /// The most bytes the folder may hold (`--cache-limit`), if bounded.
  package let limit: Int?
  package let log: CacheLog

  /// The version of the entries' layout, part of every key: entries of
  /// other versions are old and removed.
  static let format = "3"
  /// The encoded rows are checked in blocks of this many bytes.
  static let blockBytes = 1 << 20

  package init(csv path: String, folder: String?, limit: Int? = nil, log: CacheLog = CacheLog()) throws(TableError) {
    var info = stat()
    guard stat(path, &info) == 0 else { throw TableError("\(path): no such file") }
    identity = "\(info.st_size)-\(info.st_mtim.tv_sec).\(info.st_mtim.tv_nsec)"
    inode = (UInt64(info.st_dev), UInt64(info.st_ino))
    self.folder = Self.folder(for: path, folder)
    self.limit = limit
    self.log = log
  }

  /// Throws unless the file at `path` is the version this cache was opened
  /// for (same size, modification time and inode): a file that changes
  /// between or during the passes would mix two versions of the data in one model.
  package func checkUnchanged(_ path: String, _ when: String) throws(TableError) {
    var info = stat()
    guard stat(path, &info) == 0 else {
      throw TableError("\(path) disappeared while it was being read (\(when)); nothing was trained from it")
    }
    let now = "\(info.st_size)-\(info.st_mtim.tv_sec).\(info.st_mtim.tv_nsec)"
    let was = identity.split(separator: "-").first ?? "?"
    if now != identity {
      throw TableError(
        "\(path) changed while it was being read (\(when)): it had \(was) bytes, now \(info.st_size), modified again; nothing was trained from it: train once the file no longer changes"
      )
    }
    if UInt64(info.st_dev) != inode.device || UInt64(info.st_ino) != inode.inode {
      throw TableError(
        "\(path) was replaced by another file while it was being read (\(when)): the same size and time, another inode; nothing was trained from it: train once the file no longer changes"
      )
    }
  }

  /// Throws unless a pass read the bytes that the first pass read (a file
  /// rewritten in place with its size and modification time restored).
  package func checkSameContent(
    _ path: String, _ pass: String, read: (hash: UInt64, bytes: Int), first: (hash: UInt64, bytes: Int)
  ) throws(TableError) {
    if read.hash != first.hash || read.bytes != first.bytes {
      throw TableError(
        "\(path) changed while it was being read: the \(pass) read other bytes than the first pass (\(read.bytes) bytes, checksum \(Checksum.hex(read.hash)); then \(first.bytes), \(Checksum.hex(first.hash))) though its size and modification time are the same; nothing was trained from it"
      )
    }
  }

  /// Creates the folder; an error names it and suggests --cache.
  package func create() throws(TableError) {
    do {
      try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
    } catch {
      throw TableError(
        "cannot create the cache folder \(folder): \(error.localizedDescription); name a writable one with \(Setting.cacheFolder.named)"
      )
    }
  }

  package func file(_ name: String) -> String { (folder as NSString).appendingPathComponent(name) }

  /// The folder a run uses for `path`.
  package static func folder(for path: String, _ folder: String?) -> String { folder ?? path + ".blasnet-cache" }

  /// A short hash (FNV-1a, 64 bits) of the parts, to name cache files by what made them.
  package static func key(_ parts: [String]) -> String {
    var h: UInt64 = 0xcbf2_9ce4_8422_2325
    for part in [format] + parts {
      for b in part.utf8 + [0] {
        h ^= UInt64(b)
        h = h &* 0x100_0000_01b3
      }
    }
    return Checksum.hex(h)
  }

  /// A record that carries a checksum of its own other fields (in JSON with
  /// sorted keys), so that an edited or damaged record is not trusted either.
  package protocol CheckedRecord: Codable {
    var check: String { get set }
  }

  /// The labels and lines of pass 1, as stored.
  package struct RowsRecord: CheckedRecord {
    package var check = ""
    package var format = DataCache.format
    package var identity: String
    package var header: [String]
    package var labelColumn: Int
    package var featureColumns: [Int]
    package var ignored: [String]
    package var labelNames: [String]
    /// What pass 1 read: the checksum of the file's bytes, and their count.
    package var contentHash: String
    package var contentBytes: Int
    /// Checksums of the two arrays' values.
    package var labelsChecksum: String
    package var linesChecksum: String
  }

  /// The encoder of passes 2 and 3, and their notes.
  package struct EncodedRecord: CheckedRecord {
    package var check = ""
    package var format = DataCache.format
    package var identity: String
    package var encoder: Data
    package var filled: [[Int]]
    package var unseen: [UnseenRecord]
    package var rows: Int
    /// Checksums of the encoded values, a block of ``DataCache/blockBytes`` each.
    package var blockBytes: Int
    package var checksums: [String]
  }

  package struct UnseenRecord: Codable {
    package var column: Int
    package var count: Int
    package var firstRow: Int
    package var firstValue: String
  }

  /// The record `name`: nil and no problem if it is missing or of another
  /// format or version of the file (made anew, silently); nil and the
  /// problem if it is this version's but unreadable or fails its checksum.
  package func read<T: CheckedRecord>(_ type: T.Type, _ name: String) -> (record: T?, problem: String?) {
    guard let data = Self.contents(of: file(name)) else { return (nil, nil) }
    guard let head = try? JSONDecoder().decode(RecordHead.self, from: data),
      head.format == Self.format, head.identity == identity
    else { return (nil, head(data) == nil ? "its record \(name) is unreadable" : nil) }
    guard let record = try? JSONDecoder().decode(type, from: data) else {
      return (nil, "its record \(name) is unreadable")
    }
    guard Self.checksum(of: record) == record.check else {
      return (nil, "its record \(name) differs from its checksum")
    }
    return (record, nil)
  }

  /// The bytes of a record file, nil if it is missing, not a regular file,
  /// unreadable or over 64 MiB (no record is that large). (Read directly:
  /// FileManager.contents(atPath:) leaks its buffer on an empty file.)
  static func contents(of path: String) -> Data? {
    let fd = open(path, O_RDONLY | O_CLOEXEC)
    guard fd >= 0 else { return nil }
    defer { close(fd) }
    var info = stat()
    guard fstat(fd, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG, info.st_size <= 64 << 20 else { return nil }
    var bytes = [UInt8](repeating: 0, count: Int(info.st_size))
    var done = 0
    while done < bytes.count {
      let n = bytes.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress! + done, $0.count - done) }
      if n < 0 && errno == EINTR { continue }
      if n <= 0 { return nil }
      done += n
    }
    return Data(bytes)
  }

  /// The head of a record, if the data are a JSON object at all.
  private func head(_ data: Data) -> RecordHead? { try? JSONDecoder().decode(RecordHead.self, from: data) }

  /// The checksum of a record's fields but its own.
  static func checksum<T: CheckedRecord>(of record: T) -> String {
    var copy = record
    copy.check = ""
    let encoder = JSONEncoder()
    encoder.outputFormatting = .sortedKeys
    guard let data = try? encoder.encode(copy) else { return "" }
    return Checksum.hex(Checksum.of(Array(data)))
  }

  /// What every record holds first.
  struct RecordHead: Decodable {
    var format: String?
    var identity: String?
  }

  /// Writes `record` (with its checksum) as `name`, atomically.
  package func write<T: CheckedRecord>(_ record: T, _ name: String) throws(TableError) {
    var value = record
    value.check = Self.checksum(of: record)
    let encoder = JSONEncoder()
    encoder.outputFormatting = .sortedKeys
    do {
      try encoder.encode(value).write(to: URL(fileURLWithPath: file(name)), options: .atomic)
    } catch {
      throw TableError(
        "cannot write \(file(name)): \(error.localizedDescription); name another folder with \(Setting.cacheFolder.named)"
      )
    }
  }

  static func size(_ bytes: Int) -> String { TrainingMemory.format(Double(bytes)) }

  /// The checksum of a cached array's values.
  static func checksum<S: BLASScalar>(_ values: Matrix<S>) -> String {
    Checksum.hex(values.withUnsafeBufferPointer { Checksum.of(UnsafeRawBufferPointer($0)) })
  }

  /// Checks the values of the `.npy` file `name` against `checksums` (a
  /// block of `blockBytes` each), reading the file (not its mapping, which a
  /// file cut short would turn into a SIGBUS). nil if every block matches,
  /// else the first block that does not (or -1 if the file's size is wrong).
  static func firstBadBlock(_ array: NPYArray, bytes: Int, blockBytes: Int, checksums: [String]) -> Int? {
    guard blockBytes > 0, checksums.count == (bytes + blockBytes - 1) / blockBytes else { return -1 }
    let fd = open(array.path, O_RDONLY | O_CLOEXEC)
    guard fd >= 0 else { return -1 }
    defer { close(fd) }
    var info = stat()
    guard fstat(fd, &info) == 0, Int(info.st_size) == array.dataOffset + bytes else { return -1 }
    var buffer = [UInt8](repeating: 0, count: blockBytes)
    for (k, expected) in checksums.enumerated() {
      let count = min(blockBytes, bytes - k * blockBytes)
      let ok = buffer.withUnsafeMutableBytes { p -> Bool in
        var done = 0
        while done < count {
          let n = pread(fd, p.baseAddress! + done, count - done, off_t(array.dataOffset + k * blockBytes + done))
          if n < 0 && errno == EINTR { continue }
          if n <= 0 { return false }
          done += n
        }
        return Checksum.hex(Checksum.of(UnsafeRawBufferPointer(rebasing: p[..<count]))) == expected
      }
      if !ok { return k }
    }
    return nil
  }
}

// Housekeeping: partial files of dead writers, old versions, the size limit.
extension DataCache {
  /// A cache entry: its name (`rows-KEY` or `x-KEY`) and files.
  struct Entry {
    var name: String
    var files: [String]
    var bytes: Int
    /// When it was last written or used (its record's modification time).
    var used: Date
  }

  /// The entries in the folder, by name (files that are not a cache entry's are left alone).
  func entries() -> [String: Entry] {
    let names = (try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []
    var found: [String: Entry] = [:]
    for name in names {
      guard let entry = Self.entryName(name), PartialFiles.writer(of: name) == nil else { continue }
      var info = stat()
      guard stat(file(name), &info) == 0 else { continue }
      found[entry, default: Entry(name: entry, files: [], bytes: 0, used: .distantPast)].files.append(name)
      found[entry]!.bytes += Int(info.st_size)
      if name == entry + ".json" {
        found[entry]!.used = Date(
          timeIntervalSince1970: TimeInterval(info.st_mtim.tv_sec) + TimeInterval(info.st_mtim.tv_nsec) / 1e9)
      }
    }
    return found
  }

  /// `rows-KEY` or `x-KEY` for a file of that entry, else nil.
  static func entryName(_ file: String) -> String? {
    for prefix in ["rows-", "x-"] where file.hasPrefix(prefix) {
      let key = file.dropFirst(prefix.count).prefix(16)
      guard key.count == 16, key.allSatisfy(\.isHexDigit) else { return nil }
      return prefix + key
    }
    return nil
  }

  /// Removes the partial files that writers which are no longer alive left
  /// (a build interrupted by SIGKILL or a crash), with a note for each.
  package func removeAbandoned() {
    let names = (try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []
    for name in names where Self.entryName(name) != nil {
      guard let writer = PartialFiles.writer(of: name), !writer.alive else { continue }
      var info = stat()
      let size = stat(file(name), &info) == 0 ? Int(info.st_size) : 0
      if unlink(file(name)) == 0 {
        log.notes.append(
          "removed \(name) (\(DataCache.size(size))), left unfinished by process \(writer.pid), which is gone")
      }
    }
  }

  /// Removes the entries of other versions of the file (or of another
  /// format), now that this version's entries `current` are complete; an
  /// entry without a record is left alone for ten minutes, the time another
  /// process may take between finishing its arrays and writing the record.
  package func removeOldVersions(keeping current: Set<String>) {
    for entry in entries().values where !current.contains(entry.name) {
      let record = Self.contents(of: file(entry.name + ".json"))
        .flatMap { try? JSONDecoder().decode(RecordHead.self, from: $0) }
      let old: Bool
      if let record {
        old = record.format != Self.format || record.identity != identity
      } else {
        let newest =
          entry.files.compactMap { name -> Int? in
            var info = stat()
            return stat(file(name), &info) == 0 ? Int(info.st_mtim.tv_sec) : nil
          }.max() ?? 0
        old = Int(Date().timeIntervalSince1970) - newest > 600
      }
      if old { remove(entry, because: "of an earlier version of the file") }
    }
  }

  /// Makes room under ``limit`` for `bytes` more, the new files of the entry
  /// `replacing` (whose files now, if any, are about to be replaced), by
  /// removing the least recently used entries other than `keeping`; throws
  /// if `keeping` and the new files alone would not fit.
  package func makeRoom(for bytes: Int, replacing: String?, keeping: Set<String>, what: String) throws(TableError) {
    guard let limit else { return }
    let all = entries().values.filter { $0.name != replacing }
    let kept = all.filter { keeping.contains($0.name) }.reduce(0) { $0 + $1.bytes }
    if kept + bytes > limit {
      throw TableError(
        "the data cache \(folder) needs \(DataCache.size(kept + bytes)) for this file (\(what)), more than \(Setting.cacheLimit.named(DataCache.size(limit))); raise the limit or name a folder with room (\(Setting.cacheFolder.named))"
      )
    }
    var total = all.reduce(0) { $0 + $1.bytes }
    for entry in all.filter({ !keeping.contains($0.name) }).sorted(by: { $0.used < $1.used }) {
      if total + bytes <= limit { break }
      remove(entry, because: "to stay within the cache limit of \(DataCache.size(limit))")
      total -= entry.bytes
    }
  }

  /// Marks the entry used now (the limit removes the least recently used first).
  package func touch(_ entry: String) {
    _ = utimes(file(entry + ".json"), nil)
  }

  func remove(_ entry: Entry, because reason: String) {
    var removed = 0
    for name in entry.files where unlink(file(name)) == 0 { removed += 1 }
    if removed > 0 {
      log.notes.append("removed the cached \(entry.name) (\(DataCache.size(entry.bytes))) \(reason)")
    }
  }
}
