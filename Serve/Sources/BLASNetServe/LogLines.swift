import Foundation
import Logging

#if canImport(Glibc)
  import Glibc
#endif

/// The service's log handler: one event, one line on standard error,
///
///     2026-12-06T06:09:00+0000 info blasnet-serve: refused status=400 reason="record 0, field \"a\": …"
///
/// in which no text, a client's least of all, can start a line of its own:
/// control characters (newlines, carriage returns, ANSI escapes), Unicode's
/// line and paragraph separators and its invisible format characters (bidi
/// overrides) are written as escapes in the message and in every metadata
/// value, and a value that is not one plain word is quoted as a JSON string.
/// A line is written with one `write(2)`, so lines of concurrent requests
/// never interleave.
public struct ServiceLogHandler: LogHandler {
  public var metadata: Logger.Metadata = [:]
  public var metadataProvider: Logger.MetadataProvider?
  public var logLevel: Logger.Level = .info
  let label: String
  let output: Int32

  /// A handler for `label` that writes to the file descriptor `output`
  /// (standard error by default).
  public init(label: String, output: Int32 = 2) {
    self.label = label
    self.output = output
  }

  public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
    get { metadata[key] }
    set { metadata[key] = newValue }
  }

  public func log(event: LogEvent) {
    var all = metadata
    if let provided = metadataProvider?.get() { all.merge(provided) { _, new in new } }
    if let extra = event.metadata { all.merge(extra) { _, new in new } }
    let line = Self.line(
      time: Self.timestamp(), level: event.level, label: label, message: "\(event.message)", metadata: all)
    var bytes = Array(line.utf8)
    bytes.append(0x0A)
    bytes.withUnsafeBytes { buffer in
      var done = 0
      while done < buffer.count {
        let n = write(output, buffer.baseAddress! + done, buffer.count - done)
        if n > 0 {
          done += n
        } else if n < 0 && errno == EINTR {
          continue
        } else {
          return  // a log that cannot be written is dropped, not retried forever
        }
      }
    }
  }

  /// `time level label: message key=value …`, keys sorted, without the newline.
  public static func line(
    time: String, level: Logger.Level, label: String, message: String, metadata: Logger.Metadata
  ) -> String {
    var line = "\(time) \(level) \(escaped(label)): \(escaped(message))"
    for key in metadata.keys.sorted() {
      line += " \(escaped(key))=\(value(metadata[key]!))"
    }
    return line
  }

  /// A metadata value as one token: bare when it is one plain word, else a JSON string.
  static func value(_ value: Logger.Metadata.Value) -> String {
    let text: String
    switch value {
    case .string(let s): text = s
    case .stringConvertible(let s): text = s.description
    case .array(let items): return "[" + items.map(Self.value).joined(separator: ",") + "]"
    case .dictionary(let entries):
      return "{" + entries.keys.sorted().map { "\(escaped($0))=\(Self.value(entries[$0]!))" }.joined(separator: ",")
        + "}"
    }
    let plain =
      !text.isEmpty
      && text.unicodeScalars.allSatisfy {
        $0.value > 0x20 && $0.value < 0x7F && $0 != "\"" && $0 != "=" && $0 != "\\" && $0 != "," && $0 != "["
          && $0 != "]" && $0 != "{" && $0 != "}"
      }
    return plain ? text : "\"" + escaped(text, quoting: true) + "\""
  }

  /// `text` with every character that could break or disguise a line
  /// written as a JSON escape (`\n`, `\r`, `\t`, `\u001b`, `\u2028`, …); with
  /// `quoting`, also `"` and `\`: the inside of a JSON string.
  public static func escaped(_ text: String, quoting: Bool = false) -> String {
    var out = ""
    out.reserveCapacity(text.utf8.count)
    for scalar in text.unicodeScalars {
      switch scalar {
      case "\n": out += "\\n"
      case "\r": out += "\\r"
      case "\t": out += "\\t"
      case "\"" where quoting: out += "\\\""
      case "\\" where quoting: out += "\\\\"
      default:
        if needsEscape(scalar) {
          // As JSON spells it: beyond the first plane, a surrogate pair.
          for unit in String(scalar).utf16 { out += String(format: "\\u%04x", unit) }
        } else {
          out.unicodeScalars.append(scalar)
        }
      }
    }
    return out
  }

  /// Control characters (C0, DEL, C1), line and paragraph separators, and
  /// format characters (bidi overrides, zero-width joiners, …).
  static func needsEscape(_ scalar: Unicode.Scalar) -> Bool {
    switch scalar.properties.generalCategory {
    case .control, .format, .lineSeparator, .paragraphSeparator, .surrogate, .privateUse, .unassigned: true
    default: false
    }
  }

  /// Now, as `2026-12-06T06:09:00+0000` in local time.
  static func timestamp() -> String {
    var now = time(nil)
    var parts = tm()
    localtime_r(&now, &parts)
    var buffer = [CChar](repeating: 0, count: 32)
    let n = strftime(&buffer, buffer.count, "%Y-%m-%dT%H:%M:%S%z", &parts)
    return String(decoding: buffer[..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
  }
}
