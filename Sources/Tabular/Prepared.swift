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
  /// What the first pass read of the file: a checksum of its bytes and their count.
  package var contentHash: UInt64 = 0
  package var contentBytes = 0
  /// The cache entry of these rows (`rows-KEY`).
  package var cacheEntry = ""
  package var labelName: String { header[labelColumn] }
  package var count: Int { labels.count }
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
    let entry =
      "rows-"
      + DataCache.key([
        "rows", cache.identity, label ?? "", ignore.joined(separator: ","), markers.joined(separator: ","),
      ])
    // Why the entry cannot be used (nil: it is not there).
    var (record, damage) = cache.read(DataCache.RowsRecord.self, "\(entry).json")
    if let record {
      let codes = try? Matrix<Float>(npyFile: cache.file("\(entry)-labels.npy"))
      let lines = try? Matrix<Double>(npyFile: cache.file("\(entry)-lines.npy"))
      if let codes, let lines, codes.count == lines.count, let hash = UInt64(record.contentHash, radix: 16),
        record.header.indices.contains(record.labelColumn),
        record.featureColumns.allSatisfy({ record.header.indices.contains($0) && $0 != record.labelColumn }),
        DataCache.checksum(codes) == record.labelsChecksum, DataCache.checksum(lines) == record.linesChecksum,
        Self.validCodes(codes.elements, count: record.labelNames.count), Self.validLines(lines.elements)
      {
        if mayBuild { cache.touch(entry) }
        return StreamedRows(
          path: path, header: record.header, labelColumn: record.labelColumn, featureColumns: record.featureColumns,
          ignored: record.ignored, markers: markers,
          labels: LabelColumn(names: record.labelNames, codes: codes.elements.map { UInt16($0) }),
          lines: lines.elements.map { Int32($0) }, contentHash: hash, contentBytes: record.contentBytes,
          cacheEntry: entry)
      }
      damage =
        codes == nil || lines == nil
        ? "an array is missing or unreadable" : "its values differ from the checksums written with them"
    }
    guard mayBuild else {
      throw TableError(
        "the data cache \(cache.folder) has no rows for \(path) as process 0 wrote them (\(entry): \(damage ?? "not there")): with several machines, \(Setting.cacheFolder.named) must name a folder they share"
      )
    }
    if let damage {
      cache.log.notes.append(
        "the cached labels and lines \(entry) failed their check (\(damage)): rebuilt from \(path)")
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
          ignored: ignore, markers: markers, labels: LabelColumn(), lines: [], cacheEntry: entry)
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
    guard var rows else { throw TableError("\(path): the file is empty (expected a header row and data)") }
    try cache.checkUnchanged(path, "after the first pass, over the labels")
    (rows.contentHash, rows.contentBytes) = (reader.contentHash, reader.bytesRead)
    try cache.create()
    let codes = Matrix(row: rows.labels.codes.map(Float.init))
    let lines = Matrix(row: rows.lines.map(Double.init))
    try cache.makeRoom(
      for: 12 * rows.count + 256, replacing: entry, keeping: [],
      what: "the labels and line numbers of \(rows.count) rows")
    do {
      try codes.write(npyFile: cache.file("\(entry)-labels.npy"))
      try lines.write(npyFile: cache.file("\(entry)-lines.npy"))
    } catch {
      throw TableError("\(error); name another folder with \(Setting.cacheFolder.named)")
    }
    try cache.write(
      DataCache.RowsRecord(
        identity: cache.identity, header: rows.header, labelColumn: rows.labelColumn,
        featureColumns: rows.featureColumns, ignored: rows.ignored, labelNames: rows.labels.names,
        contentHash: Checksum.hex(rows.contentHash), contentBytes: rows.contentBytes,
        labelsChecksum: DataCache.checksum(codes), linesChecksum: DataCache.checksum(lines)),
      "\(entry).json")
    return rows
  }

  /// Passes 2 and 3 (or their cached result): the encoder fitted on
  /// `trainingRows`, and every row encoded into a mapped `.npy` file.
  package func encode(
    trainingRows: [Int], missing: MissingValueStrategy, maxCategories: Int, missingIndicators: Bool = false,
    cache: DataCache, mayBuild: Bool
  ) throws(TableError) -> (encoder: TabularEncoder, notes: TabularEncoder.Notes, examples: NPYExamples<Float>) {
    let entry =
      "x-"
      + DataCache.key(
        [
          "x", cache.identity, header.joined(separator: ","), "\(labelColumn)",
          featureColumns.map(String.init).joined(separator: ","),
          markers.joined(separator: ","), missing.rawValue, "\(maxCategories)",
          DataCache.key(trainingRows.map(String.init)),
        ] + (missingIndicators ? ["missing indicators of numbers and text"] : []))
    let xPath = cache.file("\(entry).npy")
    // Why the entry cannot be used (nil: it is not there).
    var (record, damage) = cache.read(DataCache.EncodedRecord.self, "\(entry).json")
    if let record {
      let encoder = try? TabularEncoder(json: record.encoder, path: cache.file("\(entry).json"))
      let array = try? NPYArray(path: xPath)
      let columns = encoder?.columns.indices ?? 0..<0
      if record.rows != count || encoder == nil
        || !record.filled.allSatisfy({ $0.count == 2 && columns.contains($0[0]) && $0[1] >= 0 })
        || !record.unseen.allSatisfy({ columns.contains($0.column) && $0.count >= 0 })
      {
        damage = "its record does not describe these \(count) rows"
      } else if let encoder, let array, array.shape == [encoder.width, count], array.dataType == .float32 {
        if let bad = DataCache.firstBadBlock(
          array, bytes: 4 * encoder.width * count, blockBytes: record.blockBytes, checksums: record.checksums)
        {
          damage = bad < 0 ? "its size is wrong" : damagedBlock(bad, of: record, width: encoder.width)
        } else {
          var notes = TabularEncoder.Notes()
          notes.filled = record.filled.map { TabularEncoder.FilledValues(column: $0[0], count: $0[1]) }
          notes.unseen = record.unseen.map {
            TabularEncoder.UnseenCategories(
              column: $0.column, count: $0.count, firstRow: $0.firstRow, firstValue: $0.firstValue)
          }
          if mayBuild {
            cache.touch(entry)
            try tidy(cache, entry)
          }
          return (encoder, notes, NPYExamples(array))
        }
      } else {
        damage = array == nil ? "the array is missing or unreadable" : "the array's shape or type is wrong"
      }
    }
    guard mayBuild else {
      throw TableError(
        "the data cache \(cache.folder) has no encoded rows for \(path) as process 0 wrote them (\(entry).npy: \(damage ?? "not there")): with several machines, \(Setting.cacheFolder.named) must name a folder they share"
      )
    }
    if let damage {
      cache.log.notes.append(
        "the cached encoded rows \(entry).npy failed their check (\(damage)): rebuilt from \(path)")
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
      maxCategories: maxCategories, missingMarkers: markers, ignoredColumns: ignored,
      missingIndicators: missingIndicators)
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
    try checkPassRead(reader, rows: first, cache, "second")
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
    var checksums = Checksum.Blocks(blockBytes: DataCache.blockBytes)
    try cache.makeRoom(
      for: 128 + 4 * encoder.width * count, replacing: entry, keeping: [cacheEntry],
      what: "\(encoder.width) encoded inputs × \(count) rows × 4 bytes")
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
        encoded.x.withUnsafeBufferPointer { checksums.append(UnsafeRawBufferPointer($0)) }
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
      try checkPassRead(reader, rows: first, cache, "third")
      try writer.finish()
    } catch let error as TableError {
      throw error
    } catch {
      throw TableError("\(error); name another folder with \(Setting.cacheFolder.named)")
    }
    notes.filled = filled.indices.filter { filled[$0] > 0 }.map {
      TabularEncoder.FilledValues(column: $0, count: filled[$0])
    }
    try cache.write(
      DataCache.EncodedRecord(
        identity: cache.identity, encoder: encoder.json(), filled: notes.filled.map { [$0.column, $0.count] },
        unseen: notes.unseen.map {
          DataCache.UnseenRecord(column: $0.column, count: $0.count, firstRow: $0.firstRow, firstValue: $0.firstValue)
        }, rows: count, blockBytes: DataCache.blockBytes, checksums: checksums.finish().map(Checksum.hex)),
      "\(entry).json")
    try tidy(cache, entry)
    do {
      return (encoder, notes, NPYExamples(try NPYArray(path: xPath)))
    } catch {
      throw TableError("\(error)")
    }
  }

  /// After pass `pass` ("second", "third"): the file is the version of the
  /// first pass (size, time, inode), the pass read its bytes and its rows.
  func checkPassRead(_ reader: CSVChunkReader, rows: Int, _ cache: DataCache, _ pass: String) throws(TableError) {
    try cache.checkUnchanged(path, "after the \(pass) pass")
    try cache.checkSameContent(
      path, "\(pass) pass", read: (reader.contentHash, reader.bytesRead), first: (contentHash, contentBytes))
    if rows != count {
      throw TableError(
        "\(path) has \(rows) rows in the \(pass) pass, \(count) in the first; nothing was trained from it")
    }
  }

  /// With this file's entries complete: the other versions' entries removed, the limit kept.
  func tidy(_ cache: DataCache, _ entry: String) throws(TableError) {
    cache.removeOldVersions(keeping: [cacheEntry, entry])
    try cache.makeRoom(for: 0, replacing: nil, keeping: [cacheEntry, entry], what: "its labels and encoded rows")
  }

  /// Which rows a damaged block of the cached encoded rows holds.
  func damagedBlock(_ block: Int, of record: DataCache.EncodedRecord, width: Int) -> String {
    let first = block * record.blockBytes / (4 * width)
    let last = min(count, ((block + 1) * record.blockBytes - 1) / (4 * width) + 1)
    return
      "block \(block + 1) of \(record.checksums.count), rows \(first + 1)–\(last) from CSV lines \(lines[first])–\(lines[last - 1]), differs from its checksum"
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
        "\(xPath): X has shape \(array.shape.map(String.init).joined(separator: "×")); it must be 2-D: n_x × m (examples as columns), or m × n_x with \(Setting.examplesAsRows.named)"
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
          + (y.count == examples.featureCount && !examplesAsRows
            ? "; is X m × n_x? then add \(Setting.examplesAsRows.named)" : ""))
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
