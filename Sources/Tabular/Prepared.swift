import Foundation
import LinearAlgebra
import NeuralNetwork

#if canImport(Glibc)
  import Glibc
#endif

// Data larger than memory. A CSV file is read in three streaming passes: the
// labels (for the classes and the split), the encoder's statistics on the
// training rows, then every row encoded once into a Float32 `.npy` file,
// examples as columns, which training maps and reads batch by batch. The
// passes' results are kept in a cache folder and reused while the file and
// the options that shape them are unchanged. A `.npy` pair from NumPy
// (`--x`, `--y`) is mapped as it is.

/// The rows of a training table read in a stream: the columns, and each
/// row's label and line (what the split needs; nothing else is kept).
package struct StreamedRows {
  package var path: String
  package var header: [String]
  package var labelColumn: Int
  package var featureColumns: [Int]
  package var ignored: [String]
  package var markers: [String]
  package var labels: LabelColumn
  package var lines: [Int32]
  package var labelName: String { header[labelColumn] }
  package var count: Int { labels.count }
}

/// The cache of one CSV file: `FILE.csv.blasnet-cache/` unless `--cache` names a folder.
package struct DataCache {
  package let folder: String
  /// Identifies the file's version: its size and modification time (not its
  /// inode, so that a copy with its time kept, on another machine, matches).
  package let identity: String

  package init(csv path: String, folder: String?) throws(TableError) {
    var info = stat()
    guard stat(path, &info) == 0 else { throw TableError("\(path): no such file") }
    identity = "\(info.st_size)-\(info.st_mtim.tv_sec).\(info.st_mtim.tv_nsec)"
    self.folder = Self.folder(for: path, folder)
  }

  /// Throws unless the file at `path` is the version this cache was opened
  /// for (same size and modification time): a file that changes between or
  /// during the passes would mix two versions of the data in one model.
  package func checkUnchanged(_ path: String, _ when: String) throws(TableError) {
    var info = stat()
    guard stat(path, &info) == 0 else {
      throw TableError("\(path) disappeared while it was being read (\(when)); nothing was trained from it")
    }
    let now = "\(info.st_size)-\(info.st_mtim.tv_sec).\(info.st_mtim.tv_nsec)"
    if now != identity {
      let was = identity.split(separator: "-").first ?? "?"
      throw TableError(
        "\(path) changed while it was being read (\(when)): it had \(was) bytes, now \(info.st_size), modified again; nothing was trained from it: train once the file no longer changes"
      )
    }
  }

  /// Creates the folder; an error names it and suggests --cache.
  package func create() throws(TableError) {
    do {
      try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
    } catch {
      throw TableError(
        "cannot create the cache folder \(folder): \(error.localizedDescription); name a writable one with --cache FOLDER"
      )
    }
  }

  package func file(_ name: String) -> String { (folder as NSString).appendingPathComponent(name) }

  /// The folder a run uses for `path`.
  package static func folder(for path: String, _ folder: String?) -> String { folder ?? path + ".blasnet-cache" }

  /// A short hash (FNV-1a, 64 bits) of the parts, to name cache files by what made them.
  package static func key(_ parts: [String]) -> String {
    var h: UInt64 = 0xcbf2_9ce4_8422_2325
    for part in parts {
      for b in part.utf8 + [0] {
        h ^= UInt64(b)
        h = h &* 0x100_0000_01b3
      }
    }
    let hex = String(h, radix: 16)
    return String(repeating: "0", count: 16 - hex.count) + hex
  }

  /// The labels and lines of pass 1, as stored.
  package struct RowsRecord: Codable {
    package var identity: String
    package var header: [String]
    package var labelColumn: Int
    package var featureColumns: [Int]
    package var ignored: [String]
    package var labelNames: [String]
  }

  /// The encoder of passes 2 and 3, and their notes.
  package struct EncodedRecord: Codable {
    package var identity: String
    package var encoder: Data
    package var filled: [[Int]]
    package var unseen: [UnseenRecord]
    package var rows: Int
  }

  package struct UnseenRecord: Codable {
    package var column: Int
    package var count: Int
    package var firstRow: Int
    package var firstValue: String
  }

  package func read<T: Decodable>(_ type: T.Type, _ name: String) -> T? {
    guard let data = FileManager.default.contents(atPath: file(name)) else { return nil }
    return try? JSONDecoder().decode(type, from: data)
  }

  package func write(_ value: some Encodable, _ name: String) throws(TableError) {
    do {
      try JSONEncoder().encode(value).write(to: URL(fileURLWithPath: file(name)), options: .atomic)
    } catch {
      throw TableError("cannot write \(file(name)): \(error.localizedDescription); name another folder with --cache")
    }
  }
}

extension StreamedRows {
  /// Whether cached label codes are whole numbers in 0..<count (a damaged
  /// cache, a NaN or a huge value, is rebuilt, never converted with a trap).
  static func validCodes(_ codes: [Float], count: Int) -> Bool {
    codes.allSatisfy { $0 >= 0 && $0 < Float(count) && $0 == $0.rounded() }
  }

  /// Whether cached line numbers are increasing whole numbers from 2 that fit an Int32.
  static func validLines(_ lines: [Double]) -> Bool {
    var previous = 1.0
    for line in lines {
      guard line > previous, line <= Double(Int32.max), line == line.rounded() else { return false }
      previous = line
    }
    return true
  }

  /// Pass 1 (or its cached result): the header checks, the label column,
  /// the columns left out, and every row's label and line.
  package static func read(
    path: String, label: String?, ignore: [String], markers: [String], cache: DataCache, mayBuild: Bool
  ) throws(TableError) -> StreamedRows {
    let key = DataCache.key([
      "rows", cache.identity, label ?? "", ignore.joined(separator: ","), markers.joined(separator: ","),
    ])
    if let record = cache.read(DataCache.RowsRecord.self, "rows-\(key).json"), record.identity == cache.identity,
      let codes = try? Matrix<Float>(npyFile: cache.file("rows-\(key)-labels.npy")),
      let lines = try? Matrix<Double>(npyFile: cache.file("rows-\(key)-lines.npy")),
      codes.count == lines.count, Self.validCodes(codes.elements, count: record.labelNames.count),
      Self.validLines(lines.elements)
    {
      return StreamedRows(
        path: path, header: record.header, labelColumn: record.labelColumn, featureColumns: record.featureColumns,
        ignored: record.ignored, markers: markers,
        labels: LabelColumn(names: record.labelNames, codes: codes.elements.map { UInt16($0) }),
        lines: lines.elements.map { Int32($0) })
    }
    guard mayBuild else {
      throw TableError(
        "the data cache \(cache.folder) has no rows for \(path) as process 0 wrote them: with several machines, --cache must name a folder they share"
      )
    }
    var reader = try CSVChunkReader(path: path)
    defer { reader.close() }
    var rows: StreamedRows?
    while let chunk = try reader.next() {
      if rows == nil {
        // The first chunk settles the columns, as a table read whole does.
        let table = try TrainingTable(csv: chunk, label: label, ignore: ignore, markers: markers)
        rows = StreamedRows(
          path: path, header: chunk.header, labelColumn: table.labelColumn, featureColumns: table.featureColumns,
          ignored: ignore, markers: markers, labels: LabelColumn(), lines: [])
      } else {
        try Dataset.checkWidths(chunk)
      }
      let labels = try Dataset.readLabels(
        chunk, column: rows!.labelColumn, markers: TabularEncoder(columns: [], missingMarkers: markers))
      for (r, label) in labels.enumerated() {
        guard rows!.labels.append(label) else {
          throw TableError.at(
            path, line: chunk.records[r].line,
            "the label column \"\(rows!.labelName)\" has more than \(LabelColumn.maxDistinct) distinct values; blasnet trains classifiers with 2 to 100 classes"
          )
        }
        rows!.lines.append(Int32(clamping: chunk.records[r].line))
      }
    }
    guard let rows else { throw TableError("\(path): the file is empty (expected a header row and data)") }
    try cache.checkUnchanged(path, "after the first pass, over the labels")
    try cache.create()
    do {
      try Matrix(row: rows.labels.codes.map(Float.init)).write(npyFile: cache.file("rows-\(key)-labels.npy"))
      try Matrix(row: rows.lines.map(Double.init)).write(npyFile: cache.file("rows-\(key)-lines.npy"))
    } catch {
      throw TableError("\(error); name another folder with --cache")
    }
    try cache.write(
      DataCache.RowsRecord(
        identity: cache.identity, header: rows.header, labelColumn: rows.labelColumn,
        featureColumns: rows.featureColumns, ignored: rows.ignored, labelNames: rows.labels.names),
      "rows-\(key).json")
    return rows
  }

  /// Passes 2 and 3 (or their cached result): the encoder fitted on
  /// `trainingRows`, and every row encoded into a mapped `.npy` file.
  package func encode(
    trainingRows: [Int], missing: MissingValueStrategy, maxCategories: Int, cache: DataCache, mayBuild: Bool
  ) throws(TableError) -> (encoder: TabularEncoder, notes: TabularEncoder.Notes, examples: NPYExamples<Float>) {
    let key = DataCache.key(
      [
        "x", cache.identity, header.joined(separator: ","), "\(labelColumn)",
        featureColumns.map(String.init).joined(separator: ","),
        markers.joined(separator: ","), missing.rawValue, "\(maxCategories)",
        DataCache.key(trainingRows.map(String.init)),
      ])
    let xPath = cache.file("x-\(key).npy")
    if let record = cache.read(DataCache.EncodedRecord.self, "x-\(key).json"), record.identity == cache.identity,
      record.rows == count, let encoder = try? TabularEncoder(json: record.encoder, path: cache.file("x-\(key).json")),
      let array = try? NPYArray(path: xPath), array.shape == [encoder.width, count], array.dataType == .float32
    {
      var notes = TabularEncoder.Notes()
      notes.filled = record.filled.map { TabularEncoder.FilledValues(column: $0[0], count: $0[1]) }
      notes.unseen = record.unseen.map {
        TabularEncoder.UnseenCategories(
          column: $0.column, count: $0.count, firstRow: $0.firstRow, firstValue: $0.firstValue)
      }
      return (encoder, notes, NPYExamples(array))
    }
    guard mayBuild else {
      throw TableError(
        "the data cache \(cache.folder) has no encoded rows for \(path) as process 0 wrote them: with several machines, --cache must name a folder they share"
      )
    }
    let lines = self.lines
    func describe(_ error: TabularError) -> TableError {
      Dataset.describe(error, path: path, header: header, line: { Int(lines[$0]) }, fitted: false)
    }
    // Pass 2: what the encoder learns, from the training rows.
    var isTraining = [Bool](repeating: false, count: count)
    for r in trainingRows { isTraining[r] = true }
    var fit = TabularEncoder.StreamingFit(
      columns: featureColumns, names: featureColumns.map { header[$0] }, missing: missing,
      maxCategories: maxCategories, missingMarkers: markers, ignoredColumns: ignored)
    try cache.checkUnchanged(path, "before the second pass, over the training rows")
    var reader = try CSVChunkReader(path: path)
    var first = 0
    while let chunk = try reader.next() {
      if first + chunk.records.count > count {
        reader.close()
        try cache.checkUnchanged(path, "during the second pass")
        throw TableError(
          "\(path) has more rows in the second pass than the \(count) of the first; nothing was trained from it")
      }
      do {
        try fit.add(chunk, firstRow: first, isTraining: isTraining)
      } catch {
        reader.close()
        throw describe(error)
      }
      first += chunk.records.count
    }
    reader.close()
    try cache.checkUnchanged(path, "after the second pass")
    if first != count {
      throw TableError(
        "\(path) has \(first) rows in the second pass, \(count) in the first; nothing was trained from it")
    }
    let encoder: TabularEncoder
    do {
      encoder = try fit.finish()
    } catch {
      throw describe(error)
    }
    // Pass 3: every row encoded, written a chunk of columns at a time.
    try cache.create()
    var notes = TabularEncoder.Notes()
    var filled = [Int](repeating: 0, count: encoder.columns.count)
    do {
      let writer = try NPYWriter<Float>(path: xPath, rows: encoder.width, columns: count)
      reader = try CSVChunkReader(path: path)
      defer { reader.close() }
      first = 0
      while let chunk = try reader.next() {
        if first + chunk.records.count > count {
          try cache.checkUnchanged(path, "during the third pass")
          throw TableError(
            "\(path) has more rows in the third pass than the \(count) of the first; nothing was trained from it")
        }
        let encoded: (x: Matrix<Float>, notes: TabularEncoder.Notes)
        do {
          encoded = try encoder.encode(chunk, columns: featureColumns)
        } catch {
          throw Dataset.describe(error, chunk, fitted: false)
        }
        try writer.append(encoded.x)
        for f in encoded.notes.filled { filled[f.column] += f.count }
        for u in encoded.notes.unseen {
          if let k = notes.unseen.firstIndex(where: { $0.column == u.column }) {
            notes.unseen[k].count += u.count
          } else {
            notes.unseen.append(
              TabularEncoder.UnseenCategories(
                column: u.column, count: u.count, firstRow: first + u.firstRow, firstValue: u.firstValue))
          }
        }
        first += chunk.records.count
      }
      try cache.checkUnchanged(path, "after the third pass, over every row")
      if first != count {
        throw TableError(
          "\(path) has \(first) rows in the third pass, \(count) in the first; nothing was trained from it")
      }
      try writer.finish()
    } catch let error as TableError {
      throw error
    } catch {
      throw TableError("\(error); name another folder with --cache")
    }
    notes.filled = filled.indices.filter { filled[$0] > 0 }.map {
      TabularEncoder.FilledValues(column: $0, count: filled[$0])
    }
    try cache.write(
      DataCache.EncodedRecord(
        identity: cache.identity, encoder: encoder.json(), filled: notes.filled.map { [$0.column, $0.count] },
        unseen: notes.unseen.map {
          DataCache.UnseenRecord(column: $0.column, count: $0.count, firstRow: $0.firstRow, firstValue: $0.firstValue)
        }, rows: count), "x-\(key).json")
    do {
      return (encoder, notes, NPYExamples(try NPYArray(path: xPath)))
    } catch {
      throw TableError("\(error)")
    }
  }
}

/// `--x X.npy --y Y.npy`: arrays saved by NumPy as the data set.
package struct NPYTable {
  package var xPath: String
  package var yPath: String
  package var examples: NPYExamples<Float>
  package var labels: LabelColumn

  package init(x xPath: String, y yPath: String, examplesAsRows: Bool) throws(TableError) {
    let array: NPYArray
    let y: Matrix<Double>
    do {
      array = try NPYArray(path: xPath)
      y = try Matrix<Double>(npyFile: yPath)
    } catch {
      throw TableError("\(error)")
    }
    guard array.shape.count == 2 else {
      throw TableError(
        "\(xPath): X has shape \(array.shape.map(String.init).joined(separator: "×")); it must be 2-D: n_x × m (examples as columns), or m × n_x with --examples-as-rows"
      )
    }
    examples = NPYExamples(array, examplesAsRows: examplesAsRows)
    let m = examples.exampleCount
    let shape = array.shape.map(String.init).joined(separator: "×")
    if m == 0 {
      throw TableError(
        "\(xPath): X has shape \(shape), which holds no examples (m = 0 \(examplesAsRows ? "rows" : "columns")); training needs examples"
      )
    }
    if examples.featureCount == 0 {
      throw TableError(
        "\(xPath): X has shape \(shape), which holds no features (n_x = 0 \(examplesAsRows ? "columns" : "rows")); the network needs at least one input"
      )
    }
    guard y.rows == 1 || y.columns == 1, y.count == m else {
      let layout = examplesAsRows ? "rows" : "columns"
      throw TableError(
        "\(yPath): Y is \(y.rows)×\(y.columns) but X (\(xPath)) has \(m) examples as \(layout): Y must hold one class value per example, shape (\(m),), (1, \(m)) or (\(m), 1)"
          + (y.count == examples.featureCount && !examplesAsRows ? "; is X m × n_x? then add --examples-as-rows" : ""))
    }
    if let k = y.elements.firstIndex(where: { !$0.isFinite }) {
      throw TableError(
        "\(yPath): the label of example \(k + 1) is \(y.elements[k]); every example needs a finite class value")
    }
    self.xPath = xPath
    self.yPath = yPath
    labels = LabelColumn(y.elements.map(TabularModel.className))
  }

  /// Throws for the first element of X that is not finite, naming its place in the file.
  package func checkFinite() throws(TableError) {
    let n = examples.featureCount
    var start = 0
    let all = Array(0..<examples.exampleCount)
    while start < all.count {
      let end = Swift.min(start + 8192, all.count)
      var chunk = Matrix<Float>.zeros(n, end - start)
      examples.gatherExamples(all[start..<end], into: &chunk)
      if let k = chunk.withUnsafeBufferPointer({ p in p.firstIndex { !$0.isFinite } }) {
        let (feature, example) = (k % n, start + k / n)
        let place =
          examples.examplesAsRows
          ? "row \(example + 1), column \(feature + 1)" : "row \(feature + 1), column \(example + 1)"
        throw TableError(
          "\(xPath): the element at \(place) (feature \(feature + 1) of example \(example + 1), counting from 1) is \(chunk.elements[k]); the network needs finite inputs"
        )
      }
      start = end
    }
  }
}
