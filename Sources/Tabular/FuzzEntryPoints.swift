import Foundation
import LinearAlgebra
import NeuralNetwork

#if canImport(Glibc)
  import Glibc
#endif

/// What the fuzz targets in Tests/Fuzz drive: the whole path from bytes to
/// a data set or a model, as `blasnet train` and `predict` take it. Any input
/// must end in a value or a ``CLIError``/``ModelFileError``: a trap, a crash
/// or a sanitizer report is a bug.
package enum FuzzEntryPoints {
  /// CSV bytes read as a training table (the last column the label), its
  /// classes found, its encoder fitted on every other row (median fills,
  /// one-hot text) while encoding all rows, the rows encoded again by the
  /// fitted encoder (which must agree), then standardised.
  package static func trainingTable(_ bytes: [UInt8]) {
    do {
      let csv = try CSVFile(path: "fuzz.csv", bytes: bytes)
      chunks(bytes, agreeWith: csv)
      let table = try TrainingTable(
        csv: csv, label: nil, ignore: [], markers: TabularEncoder.defaultMissingMarkers)
      let classes = try ClassLabels(training: table, positive: nil)
      _ = classes.targets(table.labels)
      _ = classes.strata(table.labels)
      let rows = Array(stride(from: 0, to: table.count, by: 2))
      let (encoder, data, _) = try table.fitAndEncode(trainingRows: rows, missing: .median, maxCategories: 20)
      // Encoding again with the fitted encoder (as predict does) gives the same inputs.
      let (again, _) = try table.dataset(encoder)
      if again.x != data.x { fatalError("fitAndEncode and encode disagree") }
      _ = encoder.standardizer(fitting: data.subset(rows).x).transform(data.x)
    } catch {
      _ = error.description
    }
  }

  /// The bytes cut in two at the chunk reader's last record boundary in
  /// their first half and read as two chunks give the records of the whole.
  static func chunks(_ bytes: [UInt8], agreeWith whole: CSVFile) {
    guard let cut = CSVChunkReader.lastBoundary(Array(bytes[..<(bytes.count / 2)])),
      let first = try? CSVFile(path: "fuzz.csv", bytes: Array(bytes[..<cut]))
    else { return }
    let rest: CSVFile
    do {
      rest = try CSVFile(
        path: "fuzz.csv", bytes: Array(bytes[cut...]), continuing: .init(header: first.header, line: first.endLine))
    } catch {
      fatalError("the second chunk fails (\(error)) where the whole file reads")
    }
    func rows(_ f: CSVFile) -> [[String]] {
      f.records.indices.map { r in
        ["\(f.records[r].line)"] + (0..<f.records[r].count).map { f.text(record: r, field: $0) }
      }
    }
    if first.header != whole.header || rows(first) + rows(rest) != rows(whole) {
      fatalError("the file read in two chunks cut at byte \(cut) differs from the file read whole")
    }
  }

  /// Model-file bytes decoded and validated; a model that loads predicts
  /// one all-zero example.
  package static func modelFile(_ bytes: [UInt8]) {
    do {
      let model = try TabularModel.decode(Data(bytes), path: "fuzz.json")
      let x = Matrix<Float>.zeros(model.inputWidth, 1)
      _ = model.probabilities(standardizedInputs: model.standardizer.map { $0.transform(x) } ?? x)
    } catch {
      _ = error.description
    }
  }

  /// safetensors bytes parsed and assembled into a model (no file: the
  /// parser reads bytes); a model that comes out must save and predict an
  /// all-zero example to probabilities (a regression's linear output, to anything).
  package static func safetensors(_ bytes: [UInt8]) {
    imported { () throws(ImportError) in
      try TabularModel.importWeights(safetensorsBytes: bytes, path: "fuzz.safetensors", activations: nil)
    }
  }

  /// `.npz` bytes (a zip, stored or deflated, of `.npy` members) imported as
  /// ``safetensors(_:)`` imports its bytes.
  package static func npz(_ bytes: [UInt8]) {
    imported { () throws(ImportError) in
      try TabularModel.importWeights(npzBytes: bytes, path: "fuzz.npz", activations: nil)
    }
  }

  /// A prediction request's body, as `blasnet-serve` takes it: JSON bytes
  /// decoded into records, the records encoded into a small model's inputs
  /// (a numeric column with a fill, a text column of two categories, an
  /// ignored identifier; unseen categories refused, then encoded as none),
  /// and predicted. A body ends in a ``JSONRecords/Failure``, a
  /// ``RecordError``, or one finite probability per record.
  package static func requestBody(_ bytes: [UInt8]) {
    do {
      let records = try JSONRecords.decode(bytes, maxRecords: 1_000)
      if records.isEmpty { fatalError("an empty list of records was decoded") }
      for unseen in [TabularModel.UnseenCategories.error, .encodeAsNone] {
        do {
          let x = try requestModel.inputs(for: records, unseenCategories: unseen)
          if x.columns != records.count { fatalError("\(records.count) records gave \(x.columns) input columns") }
          if !x.elements.allSatisfy(\.isFinite) { fatalError("a record was encoded to a non-finite input") }
          // The model's own path from standardised inputs (its bins, then the network).
          let p = requestModel.probabilities(standardizedInputs: x)
          if !p.elements.allSatisfy({ $0 >= 0 && $0 <= 1 }) { fatalError("probabilities \(p.elements)") }
        } catch {
          _ = error.description
        }
      }
    } catch {
      _ = error.description
    }
  }

  /// The model ``requestBody(_:)`` encodes records for, fitted (one epoch)
  /// on a small table: `a` numeric with gaps (a median fill), `c` text (x, y),
  /// `id` ignored; inputs [a, c=x, c=y].
  static let requestModel: TabularModel = {
    var options = TabularModel.FitOptions()
    (options.label, options.ignoredColumns, options.epochs, options.bootstrap) = ("label", ["id"], 1, 0)
    let rows = (0..<40).map { r in [r % 7 == 3 ? "" : "\(r % 11)", r % 3 == 0 ? "y" : "x", "P\(r)", "\(r % 2)"] }
    do {
      return try TabularModel.fit(
        .rows(header: ["a", "c", "id", "label"], rows: rows, name: "fuzz-request.csv"), options: options
      ).model
    } catch {
      fatalError("the request fuzzer's model cannot be fitted: \(error)")
    }
  }()

  /// Runs an importer on fuzzed bytes: an error is fine, a model that comes
  /// out must predict an all-zero example (a probability unless it is a
  /// regression) and encode as a model file.
  package static func imported(_ read: () throws(ImportError) -> TabularModel.ImportReport) {
    do {
      let report = try read()
      let x = Matrix<Float>.zeros(report.model.inputWidth, 1)
      let p = report.model.probabilities(standardizedInputs: x)
      if !report.model.isRegression && !p.elements.allSatisfy({ $0.isNaN || ($0 >= 0 && $0 <= 1) }) {
        fatalError("an imported model's output \(p.elements) is not a probability")
      }
      _ = try report.model.encoded()
    } catch {
      _ = "\(error)"
    }
  }

  /// `.npy` bytes written to a file and opened as `NPYArray` (the header
  /// parsed and checked against the file's size); an array that opens has
  /// its first and last columns gathered, plain and transposed, as Float, and
  /// is read whole as a Matrix when it is small.
  package static func npyFile(_ bytes: [UInt8]) {
    let path = "/tmp/blasnet-fuzz-npy-\(getpid()).npy"
    guard let file = fopen(path, "wb") else { return }
    _ = bytes.withUnsafeBytes { fwrite($0.baseAddress, 1, $0.count, file) }
    fclose(file)
    defer { unlink(path) }
    do {
      let array = try NPYArray(path: path)
      for transposed in [false, true] {
        let (r, c) = transposed ? (array.columns, array.rows) : (array.rows, array.columns)
        guard c > 0, r <= 1 << 16 else { continue }
        var out = Matrix<Float>.zeros(r, 2)
        array.gatherColumns([0, c - 1], transposed: transposed, into: &out)
      }
      if array.rows * array.columns <= 1 << 16 { _ = try Matrix<Float>(npyFile: path) }
    } catch {
      _ = error.description
    }
  }

  /// The data cache of a small CSV file (a numeric column with gaps, a
  /// category, a label), built once per process, and what it holds.
  struct CacheFixture: Sendable {
    var csv: String
    var files: [String]
    // Bytes as arrays, not Data: LeakSanitizer takes Data held by a static for a leak.
    var contents: [[UInt8]]
    var codes: [UInt16]
    var lines: [Int32]
    var encoder: [UInt8]
    var values: Matrix<Float>
    static let trainingRows = Array(stride(from: 0, to: 60, by: 2))

    static let shared: CacheFixture = {
      let folder = "/tmp/blasnet-fuzz-cache-\(getpid())"
      try? FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
      let csv = folder + "/t.csv"
      var text = "a,kind,c,label\n"
      for r in 0..<60 {
        text += "\(r % 7 == 3 ? "" : String(r % 11)),\(["x", "y", "z"][r % 3]),\(r * r % 13),\(r % 2)\n"
      }
      do {
        try text.write(toFile: csv, atomically: true, encoding: .utf8)
        // A fixed modification time: the cache's records (and the committed seeds) name it.
        var times = [timespec(tv_sec: 1_700_000_000, tv_nsec: 0), timespec(tv_sec: 1_700_000_000, tv_nsec: 0)]
        utimensat(AT_FDCWD, csv, &times, 0)
        let cache = try DataCache(csv: csv, folder: nil)
        try cache.create()
        let rows = try StreamedRows.read(
          path: csv, label: nil, ignore: [], markers: TabularEncoder.defaultMissingMarkers, cache: cache, mayBuild: true
        )
        let (encoder, _, examples) = try rows.encode(
          trainingRows: trainingRows, missing: .mean, maxCategories: 20, missingIndicators: true, cache: cache,
          mayBuild: true)
        let files = try FileManager.default.contentsOfDirectory(atPath: cache.folder).sorted().map(cache.file)
        return CacheFixture(
          csv: csv, files: files, contents: files.map { DataCache.contents(of: $0).map(Array.init) ?? [] },
          codes: rows.labels.codes, lines: rows.lines, encoder: Array(encoder.json()), values: all(examples))
      } catch {
        fatalError("the fuzz fixture's cache cannot be built: \(error)")
      }
    }()

    static func all(_ examples: NPYExamples<Float>) -> Matrix<Float> {
      var x = Matrix<Float>.zeros(examples.featureCount, examples.exampleCount)
      examples.gatherExamples(Array(0..<examples.exampleCount)[...], into: &x)
      return x
    }
  }

  /// A data cache one of whose files (the input's first byte chooses which)
  /// holds the rest of the input, read as a process that may not rebuild it
  /// reads it: the result must be an error or exactly the rows and encoded
  /// values the cache was built with; a damaged cache trusted is a bug.
  package static func cacheFile(_ bytes: [UInt8]) {
    let fixture = CacheFixture.shared
    guard let choice = bytes.first else { return }
    for (file, data) in zip(fixture.files, fixture.contents) {
      _ = FileManager.default.createFile(atPath: file, contents: Data(data))
    }
    _ = FileManager.default.createFile(
      atPath: fixture.files[Int(choice) % fixture.files.count], contents: Data(bytes.dropFirst()))
    do {
      let cache = try DataCache(csv: fixture.csv, folder: nil)
      let rows = try StreamedRows.read(
        path: fixture.csv, label: nil, ignore: [], markers: TabularEncoder.defaultMissingMarkers, cache: cache,
        mayBuild: false)
      if rows.labels.codes != fixture.codes || rows.lines != fixture.lines || rows.labels.names != ["0", "1"] {
        fatalError("a damaged cache was trusted: its rows differ from those written")
      }
      let (encoder, _, examples) = try rows.encode(
        trainingRows: CacheFixture.trainingRows, missing: .mean, maxCategories: 20, missingIndicators: true,
        cache: cache,
        mayBuild: false)
      if Array(encoder.json()) != fixture.encoder || CacheFixture.all(examples) != fixture.values {
        fatalError("a damaged cache was trusted: its encoding differs from the one written")
      }
    } catch {
      _ = error.description
    }
  }

  /// Runs `entry` on the contents of each file in `paths` (a crash input the
  /// fuzzer saved, say), printing each path as it is done.
  package static func replay(_ paths: some Sequence<String>, through entry: ([UInt8]) -> Void) throws {
    for path in paths {
      entry(Array(try Data(contentsOf: URL(fileURLWithPath: path))))
      print("replayed \(path)")
    }
  }
}
