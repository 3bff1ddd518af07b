import Foundation

#if canImport(Glibc)
  import Glibc
#endif

/// A CSV file read into memory: the header and the records.
///
/// RFC 4180 with the usual leniencies: a UTF-8 byte-order mark is skipped;
/// records end in LF or CRLF (a lone CR too); fields may be quoted with `"`,
/// contain commas, line breaks and doubled quotes `""` inside quotes;
/// surrounding spaces of unquoted fields are trimmed; blank lines are
/// skipped. Fields are kept as byte ranges into the file until asked for,
/// so a 100 MB file costs little more than its bytes.
package struct CSVFile {
  package let path: String
  package let bytes: [UInt8]
  /// Header names, unquoted and trimmed.
  package let header: [String]
  /// One entry per record after the header.
  package let records: [Record]
  /// Field ranges of all records, flattened: record k has fields
  /// `fields[records[k].firstField ..< records[k].firstField + records[k].count]`.
  package let fields: [Field]
  /// The line after the last record (where a following chunk begins).
  package let endLine: Int

  package struct Record {
    package var line: Int
    package var firstField: Int
    package var count: Int
  }

  /// 16 bytes a field (a 100 MB numeric file has about 16 million of them).
  package struct Field {
    package var start: Int
    package var length: UInt32
    /// Quoted with doubled quotes inside: needs unescaping when read as text.
    package var escaped: Bool

    package init(start: Int, end: Int, escaped: Bool) {
      self.start = start
      self.length = UInt32(end - start)
      self.escaped = escaped
    }

    package var end: Int { start + Int(length) }
  }

  package static let quote = UInt8(ascii: "\"")
  package static let comma = UInt8(ascii: ",")
  package static let lf = UInt8(ascii: "\n")
  package static let cr = UInt8(ascii: "\r")
  package static let space = UInt8(ascii: " ")
  package static let tab = UInt8(ascii: "\t")

  /// The longest field this reader takes (1 MiB): a longer one is an error
  /// at its line, found before the rest of the field is scanned.
  package static let maxFieldBytes = 1 << 20

  /// The most columns a header may have (ten million: far beyond any dense
  /// network's input, and 160 MB of field ranges per row).
  package static let maxColumns = 10_000_000

  /// Reads and splits `path`; throws ``TableError`` for a missing or unreadable
  /// file, an empty file, an unterminated quote, or text after a closing quote.
  package init(path: String) throws(TableError) {
    guard FileManager.default.fileExists(atPath: path) else { throw TableError("\(path): no such file") }
    try self.init(path: path, bytes: try CSVFile.readBytes(path))
  }

  /// The whole file in one buffer, read with one copy.
  package static func readBytes(_ path: String) throws(TableError) -> [UInt8] {
    let fd = open(path, O_RDONLY)
    var info = stat()
    guard fd >= 0, fstat(fd, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG else {
      if fd >= 0 { close(fd) }
      throw TableError("\(path): cannot read the file (is it a folder, or not readable?)")
    }
    defer { close(fd) }
    // Field lengths are kept as UInt32.
    if info.st_size > Int(UInt32.max) {
      throw TableError("\(path): the file is larger than 4 GiB, the most this reader takes")
    }
    var bytes = [UInt8](repeating: 0, count: Int(info.st_size))
    var filled = 0
    while filled < bytes.count {
      let n = bytes.withUnsafeMutableBytes { read(fd, $0.baseAddress! + filled, $0.count - filled) }
      if n < 0 && errno == EINTR { continue }
      if n < 0 { throw TableError("\(path): cannot read the file: \(String(cString: strerror(errno)))") }
      if n == 0 { break }
      filled += n
    }
    return filled == bytes.count ? bytes : Array(bytes[..<filled])
  }

  /// Where a chunk of a file read piece by piece begins: after the header,
  /// at `line`.
  package struct Continuation {
    package var header: [String]
    package var line: Int
  }

  /// A table held in memory as the CSV file it would be: `header`, then
  /// each row as one line (fields quoted where they need it), so that row k
  /// is line k + 2 in messages unless a field holds a line break.
  package init(path: String, header: [String], rows: [[String]]) throws(TableError) {
    func field(_ text: String) -> String {
      let plain =
        !text.isEmpty && !text.contains(where: { $0 == "," || $0 == "\"" || $0.isNewline })
        && text.first != " " && text.last != " " && text.first != "\t" && text.last != "\t"
      return plain ? text : "\"" + text.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }
    var text = header.map(field).joined(separator: ",") + "\n"
    for row in rows { text += row.map(field).joined(separator: ",") + "\n" }
    try self.init(path: path, bytes: Array(text.utf8))
  }

  /// Splits `bytes`, the whole file, or with `continuing` a chunk of whole
  /// records that follows the header (no header row in it then).
  package init(path: String, bytes: [UInt8], continuing: Continuation? = nil) throws(TableError) {
    self.path = path
    self.bytes = bytes
    var fields: [Field] = []
    var records: [Record] = []
    let n = bytes.count
    var i = 0
    if continuing == nil {
      try CSVFile.checkEncoding(path, bytes)
      if n >= 3 && bytes[0] == 0xEF && bytes[1] == 0xBB && bytes[2] == 0xBF { i = 3 }
    }
    var line = continuing?.line ?? 1
    // Fields a record may have: unlimited for the header, then the header's
    // count, so a runaway row is refused without keeping its fields.
    var width = continuing?.header.count ?? Int.max
    try bytes.withUnsafeBufferPointer { (b) throws(TableError) in
      while i < n {
        // One record.
        let recordLine = line
        let first = fields.count
        var blank = true
        while true {
          // One field: skip leading blanks.
          while i < n && (b[i] == CSVFile.space || b[i] == CSVFile.tab) { i += 1 }
          if i < n && b[i] == CSVFile.quote {
            let openLine = line
            i += 1
            let start = i
            var escaped = false
            while true {
              if i >= n {
                throw TableError.at(
                  path, line: openLine, column: fields.count - first + 1, "a quoted field is never closed")
              }
              if i - start > CSVFile.maxFieldBytes {
                throw TableError.at(
                  path, line: openLine, column: fields.count - first + 1,
                  "a field is longer than \(CSVFile.maxFieldBytes) bytes, the most this reader takes (a quote never closed?)"
                )
              }
              if b[i] == CSVFile.quote {
                if i + 1 < n && b[i + 1] == CSVFile.quote {
                  escaped = true
                  i += 2
                  continue
                }
                break
              }
              if b[i] == CSVFile.lf { line += 1 }
              i += 1
            }
            fields.append(Field(start: start, end: i, escaped: escaped))
            i += 1
            while i < n && (b[i] == CSVFile.space || b[i] == CSVFile.tab) { i += 1 }
            if i < n && b[i] != CSVFile.comma && b[i] != CSVFile.lf && b[i] != CSVFile.cr {
              throw TableError.at(
                path, line: line, column: fields.count - first, "unexpected text after the closing quote of a field")
            }
            blank = false
          } else {
            let start = i
            while i < n && b[i] != CSVFile.comma && b[i] != CSVFile.lf && b[i] != CSVFile.cr {
              i += 1
              if i - start > CSVFile.maxFieldBytes {
                throw TableError.at(
                  path, line: line, column: fields.count - first + 1,
                  "a field is longer than \(CSVFile.maxFieldBytes) bytes, the most this reader takes")
              }
            }
            var end = i
            while end > start && (b[end - 1] == CSVFile.space || b[end - 1] == CSVFile.tab) { end -= 1 }
            if end > start || (i < n && b[i] == CSVFile.comma) { blank = false }
            fields.append(Field(start: start, end: end, escaped: false))
          }
          if i < n && b[i] == CSVFile.comma {
            i += 1
            blank = false
            if fields.count - first >= Swift.min(width, CSVFile.maxColumns) {
              if width == Int.max {
                throw TableError.at(
                  path, line: recordLine,
                  "the header has more than \(CSVFile.maxColumns) columns, the most this reader takes")
              }
              throw TableError.at(
                path, line: recordLine, "this row has more than \(width) fields, expected \(width) (as the header has)")
            }
            continue
          }
          break
        }
        // End of record: CRLF, LF, CR or end of file.
        if i < n && b[i] == CSVFile.cr { i += 1 }
        if i < n && b[i] == CSVFile.lf { i += 1 }
        line += 1
        if blank {
          fields.removeLast(fields.count - first)
        } else {
          records.append(Record(line: recordLine, firstField: first, count: fields.count - first))
          if records.count == 1 && continuing == nil { width = fields.count }
        }
      }
    }
    endLine = line
    self.fields = fields
    if let continuing {
      self.header = continuing.header
      self.records = records
      return
    }
    guard let head = records.first else {
      throw TableError("\(path): the file is empty (expected a header row and data)")
    }
    self.header = (0..<head.count).map { k in
      CSVFile.text(bytes, fields[head.firstField + k]).trimmingCharacters(in: .whitespaces)
    }
    self.records = Array(records.dropFirst())
  }

  /// Refuses UTF-16 and UTF-32 text (by its byte-order mark, or by the NUL
  /// bytes that UTF-16 puts in every ASCII character) and other binary files,
  /// which would otherwise fail later as numbers that look fine when printed.
  package static func checkEncoding(_ path: String, _ bytes: [UInt8]) throws(TableError) {
    let head = bytes.prefix(4)
    let marks: [([UInt8], String)] = [
      ([0xFF, 0xFE, 0, 0], "UTF-32"), ([0, 0, 0xFE, 0xFF], "UTF-32"), ([0xFF, 0xFE], "UTF-16"),
      ([0xFE, 0xFF], "UTF-16"),
    ]
    let convert = "BLASNet reads UTF-8 CSV; convert it first, e.g. iconv -f %@ -t UTF-8"
    for (mark, name) in marks where head.starts(with: mark) {
      throw TableError(
        "\(path): the file is \(name) text (it starts with a \(name) byte-order mark); "
          + convert.replacingOccurrences(of: "%@", with: name))
    }
    if let k = bytes.prefix(4096).firstIndex(of: 0) {
      let line = bytes[..<k].reduce(1) { $1 == CSVFile.lf ? $0 + 1 : $0 }
      throw TableError(
        "\(path):\(line): the file has a NUL byte at byte offset \(k): it is UTF-16 text without a byte-order mark, or not text at all; "
          + convert.replacingOccurrences(of: "%@", with: "UTF-16LE"))
    }
  }

  package static func text(_ bytes: [UInt8], _ f: Field) -> String {
    let s = String(decoding: bytes[f.start..<f.end], as: UTF8.self)
    return f.escaped ? s.replacingOccurrences(of: "\"\"", with: "\"") : s
  }

  /// Field `k` of record `r` as text.
  package func text(record r: Int, field k: Int) -> String {
    CSVFile.text(bytes, fields[records[r].firstField + k])
  }

  /// Field `k` of record `r` as a number, or nil if it is not one.
  ///
  /// Accepts what `strtod` accepts in full (decimal and exponent forms),
  /// including `nan` and `inf`, which callers must refuse themselves; read
  /// by `DecimalNumber` (the same bits as `strtod`).
  package func number(record r: Int, field k: Int) -> Double? {
    let f = fields[records[r].firstField + k]
    let length = f.end - f.start
    if length == 0 || length > 63 || f.escaped { return length > 63 ? Double(text(record: r, field: k)) : nil }
    return bytes.withUnsafeBufferPointer { DecimalNumber.parse(UnsafeBufferPointer(rebasing: $0[f.start..<f.end])) }
  }
}

/// A CSV file read a chunk of whole records at a time (about `chunkBytes`
/// each), for files larger than memory: the header, then ``next()`` until
/// it returns nil. Record boundaries are found by a scan that follows
/// quotes, so a quoted field with line breaks never straddles two chunks.
package struct CSVChunkReader {
  package let path: String
  package let chunkBytes: Int
  package private(set) var header: [String] = []
  private let fd: Int32
  private var pending: [UInt8] = []
  private var atEnd = false
  private var line = 1
  private var first: CSVFile?
  /// A checksum of every byte read so far (chained over reads of
  /// `chunkBytes`, so two readers of the same bytes agree), and their count.
  package private(set) var contentHash: UInt64 = 0
  package private(set) var bytesRead = 0
  /// The file's size when it was opened.
  package private(set) var fileSize = 0
  /// The share of the file read so far (0 to 1).
  package var fractionRead: Double { fileSize > 0 ? Swift.min(1, Double(bytesRead) / Double(fileSize)) : 1 }

  /// The most bytes one record may take before it is refused (a quote never closed, say).
  package static let maxRecordBytes = 64 << 20

  package init(path: String, chunkBytes: Int = 8 << 20) throws(TableError) {
    self.path = path
    self.chunkBytes = chunkBytes
    guard FileManager.default.fileExists(atPath: path) else { throw TableError("\(path): no such file") }
    var info = stat()
    let fd = open(path, O_RDONLY)
    guard fd >= 0, fstat(fd, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG else {
      if fd >= 0 { Glibc.close(fd) }
      throw TableError("\(path): cannot read the file (is it a folder, or not readable?)")
    }
    self.fd = fd
    fileSize = Int(info.st_size)
    // The first chunk carries the header (and is checked for its encoding).
    let bytes = try nextBytes()
    let head = try CSVFile(path: path, bytes: bytes)
    header = head.header
    line = head.endLine
    first = head
  }

  /// Closes the file.
  package func close() { _ = Glibc.close(fd) }

  /// The next chunk of records (the first one holds the header's first
  /// records too), or nil at the end of the file.
  package mutating func next() throws(TableError) -> CSVFile? {
    if let head = first {
      first = nil
      return head
    }
    let bytes = try nextBytes()
    if bytes.isEmpty { return nil }
    let chunk = try CSVFile(path: path, bytes: bytes, continuing: .init(header: header, line: line))
    line = chunk.endLine
    return chunk
  }

  /// Bytes up to the last record boundary in about `chunkBytes` more of the
  /// file, or the rest of the file.
  private mutating func nextBytes() throws(TableError) -> [UInt8] {
    while true {
      if !atEnd { try readMore() }
      if atEnd {
        defer { pending = [] }
        return pending
      }
      if let cut = Self.lastBoundary(pending) {
        let chunk = Array(pending[..<cut])
        pending.removeFirst(cut)
        return chunk
      }
      // No whole record yet: read on, up to a limit.
      if pending.count > Self.maxRecordBytes {
        throw TableError.at(
          path, line: line,
          "a record longer than \(Self.maxRecordBytes >> 20) MiB starts here (a quoted field that is never closed?)")
      }
    }
  }

  /// Appends up to `chunkBytes` of the file to `pending`; sets `atEnd` at its end.
  private mutating func readMore() throws(TableError) {
    let start = pending.count
    pending.append(contentsOf: [UInt8](repeating: 0, count: chunkBytes))
    var filled = start
    while filled < pending.count {
      let n = pending.withUnsafeMutableBytes { read(fd, $0.baseAddress! + filled, $0.count - filled) }
      if n < 0 && errno == EINTR { continue }
      if n < 0 { throw TableError("\(path): cannot read the file: \(String(cString: strerror(errno)))") }
      if n == 0 {
        atEnd = true
        break
      }
      filled += n
    }
    pending.removeLast(pending.count - filled)
    contentHash = pending.withUnsafeBytes {
      Checksum.of(UnsafeRawBufferPointer(rebasing: $0[start...]), seed: contentHash)
    }
    bytesRead += filled - start
  }

  /// The index after the last record boundary in `b` (a LF, or a CR not
  /// followed by a LF), scanning from a record's start with the reader's
  /// own rules: a quote opens a quoted field only at a field's start (after
  /// blanks), `""` inside one is a quote; nil if there is none.
  package static func lastBoundary(_ b: [UInt8]) -> Int? {
    var last: Int?
    b.withUnsafeBufferPointer { p in
      var inQuotes = false
      var atFieldStart = true
      var i = 0
      while i < p.count {
        let c = p[i]
        if inQuotes {
          if c == CSVFile.quote {
            if i + 1 < p.count && p[i + 1] == CSVFile.quote {
              i += 1
            } else {
              inQuotes = false
            }
          }
        } else if c == CSVFile.quote && atFieldStart {
          inQuotes = true
          atFieldStart = false
        } else if c == CSVFile.comma {
          atFieldStart = true
        } else if c == CSVFile.lf || (c == CSVFile.cr && i + 1 < p.count && p[i + 1] != CSVFile.lf) {
          last = i + 1
          atFieldStart = true
        } else if c != CSVFile.space && c != CSVFile.tab && c != CSVFile.cr {
          atFieldStart = false
        }
        i += 1
      }
    }
    return last
  }
}
