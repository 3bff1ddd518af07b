import Foundation
import LinearAlgebra
import NeuralNetwork
import Testing

@testable import Tabular

#if canImport(Glibc)
  import Glibc
#endif

/// Issue 21 (3): the data cache is verified, not trusted; it cleans up after
/// interrupted runs and old versions of the file, and keeps to a size limit.
@Suite struct CacheIntegrityTests {
  let wdbc = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .appendingPathComponent("NeuralNetworkTests/Fixtures/wdbc.csv")

  /// A fresh folder with a copy of wdbc.csv, removed afterwards.
  func withCopy<R>(_ body: (_ folder: URL, _ csv: String) throws -> R) throws -> R {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("cache-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: folder) }
    let csv = folder.appendingPathComponent("w.csv").path
    try FileManager.default.copyItem(atPath: wdbc.path, toPath: csv)
    return try body(folder, csv)
  }

  func options(cache: String? = nil, limit: Int? = nil) -> TabularModel.FitOptions {
    var o = TabularModel.FitOptions()
    o.streaming = .always
    o.cacheFolder = cache
    o.cacheLimit = limit
    o.epochs = 15
    o.batchSize = 64
    return o
  }

  func files(_ folder: String, _ prefix: String = "", _ suffix: String = "") throws -> [String] {
    try FileManager.default.contentsOfDirectory(atPath: folder).filter { $0.hasPrefix(prefix) && $0.hasSuffix(suffix) }
      .sorted()
  }

  // MARK: Checksums

  @Test func blockChecksumsDoNotDependOnHowTheBytesArrive() {
    let bytes = (0..<10_000).map { UInt8(truncatingIfNeeded: $0 &* 2_654_435_761 >> 7) }
    var whole = Checksum.Blocks(blockBytes: 1000)
    bytes.withUnsafeBytes { whole.append($0) }
    var pieces = Checksum.Blocks(blockBytes: 1000)
    for range in [0..<1, 1..<999, 999..<2500, 2500..<2501, 2501..<10_000] {
      bytes[range].withUnsafeBytes { pieces.append($0) }
    }
    let sums = whole.finish()
    #expect(sums.count == 10)
    #expect(pieces.finish() == sums)
    // Each block's sum is the sum of its bytes.
    for k in 0..<10 { #expect(sums[k] == Checksum.of(Array(bytes[(k * 1000)..<((k + 1) * 1000)]))) }
    // A short last block.
    var short = Checksum.Blocks(blockBytes: 3000)
    bytes.withUnsafeBytes { short.append($0) }
    #expect(short.finish().last == Checksum.of(Array(bytes[9000...])))
  }

  @Test func everyBitOfTheDataChangesTheChecksum() {
    // Every length from 0 to 70 (the 32-byte lanes, the 8-byte words and the tail bytes).
    for count in 0...70 {
      let bytes = (0..<count).map { UInt8(truncatingIfNeeded: $0 * 37 + 11) }
      let sum = Checksum.of(bytes)
      for i in 0..<count {
        for bit in [0, 3, 7] {
          var flipped = bytes
          flipped[i] ^= UInt8(1 << bit)
          #expect(Checksum.of(flipped) != sum, "length \(count), byte \(i), bit \(bit)")
        }
      }
      // One more zero byte at the end is a change too.
      #expect(Checksum.of(bytes + [0]) != sum)
    }
    // Zeroed data, as a damaged disk block holds, differs from the data.
    let floats = (0..<1024).map { Float($0) * 0.25 }
    let zeros = [Float](repeating: 0, count: 1024)
    #expect(floats.withUnsafeBytes { Checksum.of($0) } != zeros.withUnsafeBytes { Checksum.of($0) })
    // Chained parts differ from the parts in another order.
    #expect(Checksum.of([1, 2], seed: Checksum.of([3])) != Checksum.of([3], seed: Checksum.of([1, 2])))
  }

  @Test func theFirstDamagedBlockOfAnArrayIsFound() throws {
    try withCopy { folder, _ in
      let path = folder.appendingPathComponent("a.npy").path
      let values = Matrix<Float>(rows: 10, columns: 100) { i, j in Float(i * 100 + j) }
      try values.write(npyFile: path)
      var blocks = Checksum.Blocks(blockBytes: 1000)
      values.withUnsafeBufferPointer { blocks.append(UnsafeRawBufferPointer($0)) }
      let sums = blocks.finish().map(Checksum.hex)
      #expect(sums.count == 4)
      let array = try NPYArray(path: path)
      #expect(DataCache.firstBadBlock(array, bytes: 4000, blockBytes: 1000, checksums: sums) == nil)
      // Column 57 starts at byte 57·10·4 = 2280: block 3 (index 2).
      var damaged = values
      damaged[4, 57] = .nan
      try damaged.write(npyFile: path)
      #expect(DataCache.firstBadBlock(try NPYArray(path: path), bytes: 4000, blockBytes: 1000, checksums: sums) == 2)
      // A file cut short is found before any block is read.
      let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
      try handle.truncate(atOffset: UInt64(array.dataOffset + 3999))
      try handle.close()
      #expect(DataCache.firstBadBlock(array, bytes: 4000, blockBytes: 1000, checksums: sums) == -1)
    }
  }

  // MARK: A damaged cache is rebuilt

  /// A cached value made NaN (the issue's case: the error blamed a CSV line)
  /// or cached labels flipped (the issue's worst case: a model of wrong data,
  /// saved silently) fail their checksums: the entry is rebuilt, with a note,
  /// and the model is the model of the clean cache.
  @Test(arguments: ["value NaN", "labels flipped", "rows zeroed", "class names swapped"])
  func aDamagedEntryIsRebuiltWithANote(_ damage: String) throws {
    try withCopy { folder, csv in
      let clean = try TabularModel.fit(.csvFile(csv), options: options())
      #expect(clean.preparation.cacheNotes.isEmpty)
      let cache = csv + ".blasnet-cache"
      let x = cache + "/" + (try files(cache, "x-", ".npy")[0])
      let labels = cache + "/" + (try files(cache, "rows-", "-labels.npy")[0])
      switch damage {
      case "value NaN":
        var values = try Matrix<Float>(npyFile: x)
        values[2, 100] = .nan
        try values.write(npyFile: x)
      case "labels flipped":
        // Still valid codes (0 and 1): only the checksum can tell.
        var codes = try Matrix<Float>(npyFile: labels)
        for j in 0..<codes.columns { codes[0, j] = 1 - codes[0, j] }
        try codes.write(npyFile: labels)
      case "class names swapped":
        // A record edited into other valid JSON: only its own checksum can tell.
        let record = cache + "/" + (try files(cache, "rows-", ".json")[0])
        let text = try String(contentsOfFile: record, encoding: .utf8)
        // (In the order the labels first appear: wdbc's first row is malignant, 1.)
        #expect(text.contains(#""labelNames":["1","0"]"#))
        try text.replacingOccurrences(of: #""labelNames":["1","0"]"#, with: #""labelNames":["0","1"]"#)
          .write(toFile: record, atomically: true, encoding: .utf8)
      default:
        var values = try Matrix<Float>(npyFile: x)
        for j in 0..<200 { for i in 0..<values.rows { values[i, j] = 0 } }
        try values.write(npyFile: x)
      }
      let again = try TabularModel.fit(.csvFile(csv), options: options())
      let notes = again.preparation.cacheNotes
      #expect(notes.count == 1, "\(notes)")
      if damage == "labels flipped" {
        #expect(
          notes.first?.hasPrefix("the cached labels and lines rows-") == true
            && notes.first?.hasSuffix(
              " failed their check (its values differ from the checksums written with them): rebuilt from \(csv)")
              == true,
          "\(notes)")
      } else if damage == "class names swapped" {
        #expect(
          notes.first?.hasSuffix(
            ".json differs from its checksum): rebuilt from \(csv)") == true
            && notes.first?.hasPrefix("the cached labels and lines rows-") == true, "\(notes)")
      } else {
        // 30 inputs × 569 rows × 4 bytes fit one block of 1 MiB.
        #expect(
          notes.first?.hasSuffix(
            ".npy failed their check (block 1 of 1, rows 1–569 from CSV lines 2–570, differs from its checksum): rebuilt from \(csv)"
          ) == true, "\(notes)")
      }
      #expect(again.model == clean.model)
      // The rebuilt entry is trusted again.
      let third = try TabularModel.fit(.csvFile(csv), options: options())
      #expect(third.preparation.cacheNotes.isEmpty && third.model == clean.model)
    }
  }

  // MARK: Files that change while read

  /// Sets the modification time of `path` to `time` (to the nanosecond).
  func setTime(_ path: String, _ time: timespec) {
    var times = [time, time]
    #expect(utimensat(AT_FDCWD, path, &times, 0) == 0)
  }

  func modificationTime(_ path: String) -> timespec {
    var info = stat()
    _ = stat(path, &info)
    return info.st_mtim
  }

  /// A file rewritten in place between the passes with its size and
  /// modification time restored: only the checksum of what each pass read tells.
  @Test func contentChangedWithTheSameSizeAndTimeIsAnError() throws {
    try withCopy { folder, csv in
      let cache = try DataCache(csv: csv, folder: nil)
      try cache.create()
      let rows = try StreamedRows.read(
        path: csv, label: nil, ignore: [], markers: TabularEncoder.defaultMissingMarkers, cache: cache, mayBuild: true)
      let time = modificationTime(csv)
      var text = try String(contentsOfFile: csv, encoding: .utf8)
      // A digit of the first value changes; the size stays.
      let digit = text.index(text.firstIndex(of: "\n")!, offsetBy: 1)
      text.replaceSubrange(digit...digit, with: text[digit] == "9" ? "8" : "9")
      let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: csv))
      try handle.write(contentsOf: Data(text.utf8))
      try handle.close()
      setTime(csv, time)
      do {
        _ = try rows.encode(
          trainingRows: Array(0..<400), missing: .error, maxCategories: 50, cache: cache, mayBuild: true)
        Issue.record("a file changed in place was encoded")
      } catch let error as TableError {
        #expect(
          error.description.hasPrefix(
            "\(csv) changed while it was being read: the second pass read other bytes than the first pass ("),
          "\(error.description)")
        #expect(
          error.description.hasSuffix("though its size and modification time are the same; nothing was trained from it")
        )
      }
      // No encoded rows were kept from the mixed passes.
      #expect(try files(csv + ".blasnet-cache", "x-").isEmpty)
    }
  }

  /// A file replaced by another (renamed over it) with the same size and
  /// time is a change: another inode.
  @Test func aFileReplacedByAnotherIsAnError() throws {
    try withCopy { folder, csv in
      let cache = try DataCache(csv: csv, folder: nil)
      let copy = folder.appendingPathComponent("copy.csv").path
      try FileManager.default.copyItem(atPath: csv, toPath: copy)
      setTime(copy, modificationTime(csv))
      #expect(rename(copy, csv) == 0)
      do {
        try cache.checkUnchanged(csv, "after the first pass")
        Issue.record("a replaced file went unnoticed")
      } catch let error as TableError {
        #expect(
          error.description
            == "\(csv) was replaced by another file while it was being read (after the first pass): the same size and time, another inode; nothing was trained from it: train once the file no longer changes"
        )
      }
    }
  }

  // MARK: Housekeeping

  /// A process id no process has now.
  func deadProcessID() -> Int32 {
    var pid: Int32 = 4_000_000
    while kill(pid, 0) == 0 || errno != ESRCH { pid -= 1 }
    return pid
  }

  @Test func partialFilesOfDeadWritersAreRemovedAndLiveOnesKept() throws {
    try withCopy { folder, csv in
      _ = try TabularModel.fit(.csvFile(csv), options: options())
      let cache = csv + ".blasnet-cache"
      let dead = deadProcessID()
      let host = PartialFiles.suffix.split(separator: "-").dropLast().joined(separator: "-")
      let abandoned = [
        "x-0123456789abcdef.npy\(host)-\(dead)",  // this host, a dead process
        "x-0123456789abcdef.npy.part-\(dead)",  // the name earlier versions gave
      ]
      let kept = [
        "x-fedcba9876543210.npy\(PartialFiles.suffix)",  // this very process: alive
        "x-fedcba9876543210.npy.part-otherhost-\(dead)",  // another host: cannot be asked
        "notes.txt.part-\(dead)",  // not the cache's
      ]
      for name in abandoned + kept {
        #expect(FileManager.default.createFile(atPath: cache + "/" + name, contents: Data(count: 4096)))
      }
      let report = try TabularModel.fit(.csvFile(csv), options: options())
      for name in abandoned { #expect(!FileManager.default.fileExists(atPath: cache + "/" + name), "\(name)") }
      for name in kept { #expect(FileManager.default.fileExists(atPath: cache + "/" + name), "\(name)") }
      #expect(
        report.preparation.cacheNotes.sorted()
          == abandoned.sorted().map {
            "removed \($0) (4.1 kB), left unfinished by process \(dead), which is gone"
          })
    }
  }

  @Test func anUnfinishedWriterIsRegisteredUntilItFinishes() throws {
    try withCopy { folder, _ in
      let path = folder.appendingPathComponent("a.npy").path
      let temporary = path + PartialFiles.suffix
      var writer: NPYWriter<Float>? = try NPYWriter<Float>(path: path, rows: 2, columns: 3)
      #expect(PartialFiles.current.contains(temporary))
      #expect(FileManager.default.fileExists(atPath: temporary))
      try writer!.append(Matrix(rows: 2, columns: 3) { i, j in Float(i + j) })
      try writer!.finish()
      #expect(!PartialFiles.current.contains(temporary))
      #expect(!FileManager.default.fileExists(atPath: temporary))
      // One dropped unfinished is removed and forgotten.
      writer = try NPYWriter<Float>(path: path + "2", rows: 2, columns: 3)
      #expect(PartialFiles.current.contains(path + "2" + PartialFiles.suffix))
      writer = nil
      #expect(!PartialFiles.current.contains(path + "2" + PartialFiles.suffix))
      #expect(!FileManager.default.fileExists(atPath: path + "2" + PartialFiles.suffix))
      #expect(PartialFiles.writer(of: "x.npy" + PartialFiles.suffix)?.alive == true)
      #expect(PartialFiles.writer(of: "x.npy") == nil)
    }
  }

  /// When the file changes, the new version's entries replace the old ones
  /// (they used to stay, one more set per change).
  @Test func anEarlierVersionsEntriesAreRemovedOnceTheNewOnesAreComplete() throws {
    try withCopy { folder, csv in
      _ = try TabularModel.fit(.csvFile(csv), options: options())
      let cache = csv + ".blasnet-cache"
      let before = try files(cache)
      #expect(before.count == 5)  // rows: record, labels, lines; x: record, values
      let text = try String(contentsOfFile: csv, encoding: .utf8)
      try (text + text.split(separator: "\n")[1] + "\n").write(toFile: csv, atomically: false, encoding: .utf8)
      let report = try TabularModel.fit(.csvFile(csv), options: options())
      let after = try files(cache)
      #expect(after.count == 5 && Set(after).isDisjoint(with: before), "\(after)")
      #expect(report.preparation.exampleCount == 570)
      #expect(report.preparation.cacheNotes.count == 2, "\(report.preparation.cacheNotes)")
      #expect(report.preparation.cacheNotes.allSatisfy { $0.hasSuffix(" of an earlier version of the file") })
    }
  }

  /// `--cache-limit`: a file whose own entries need more is refused before
  /// they are written; otherwise the least recently used other entries go.
  @Test func theCacheLimitIsKept() throws {
    try withCopy { folder, csv in
      let shared = folder.appendingPathComponent("cache").path
      // wdbc needs 569 × (30 × 4 + 12) bytes and its records: about 80 KB.
      do {
        _ = try TabularModel.fit(.csvFile(csv), options: options(cache: shared, limit: 50_000))
        Issue.record("a cache over its limit was written")
      } catch let error as TableError {
        #expect(
          error.description
            == "the data cache \(shared) needs 76.4 kB for this file (30 encoded inputs × 569 rows × 4 bytes), more than cacheLimit = 50.0 kB; raise the limit or name a folder with room (cacheFolder)",
          "\(error.description)")
      }
      #expect(try files(shared, "x-").isEmpty)
      // Room for one file's entries: a second file's push the first's out.
      let other = folder.appendingPathComponent("v.csv").path
      try FileManager.default.copyItem(atPath: csv, toPath: other)
      let first = try TabularModel.fit(.csvFile(csv), options: options(cache: shared, limit: 100_000))
      #expect(first.preparation.cacheNotes.isEmpty)
      let second = try TabularModel.fit(.csvFile(other), options: options(cache: shared, limit: 100_000))
      #expect(second.model == first.model)
      #expect(second.preparation.cacheNotes.count == 2, "\(second.preparation.cacheNotes)")
      #expect(
        second.preparation.cacheNotes.allSatisfy { $0.hasSuffix("to stay within the cache limit of 100.0 kB") },
        "\(second.preparation.cacheNotes)")
      #expect(try files(shared).count == 5)
      let total = try files(shared).reduce(0) {
        $0 + ((try FileManager.default.attributesOfItem(atPath: shared + "/" + $1)[.size] as? Int) ?? 0)
      }
      #expect(total <= 100_000)
    }
  }
}
