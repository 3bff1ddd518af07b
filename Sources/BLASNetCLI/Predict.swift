import ArgumentParser
import Foundation
import NeuralNetwork
import Tabular

extension BLASNetCommand {
  struct Predict: ParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Write one prediction (class and probability) per row of a CSV file.",
      discussion:
        "The file is read in chunks of 8 MB, so a file of any size is predicted in bounded memory. With --output the predictions go to a temporary file that replaces OUTPUT once complete; a row that cannot be read stops the run with an error naming its line and column, after the predictions of every row before it are written."
    )

    @OptionGroup var options: ModelOptions

    @Option(help: "Where to write the predictions (default, or -: standard output, CSV only).")
    var output: String?

    @Option(
      help:
        "csv (class and probabilities per row), or npy (the probabilities as float32: shape (m,) of the positive class for two classes, (m, classes) for more; needs --output)."
    )
    var format: OutputFormat = .csv

    @Option(
      help: ArgumentHelp(
        "Columns of the input to copy into the output first (an id, say), comma-separated or repeated.",
        valueName: "columns"))
    var keep: [String] = []

    enum OutputFormat: String, ExpressibleByArgument, CaseIterable {
      case csv, npy
    }

    func validate() throws {
      if format == .npy {
        guard let output, output != "-" else {
          throw ValidationError("--format npy writes a binary file: give it a path with --output")
        }
        guard keep.isEmpty else {
          throw ValidationError("--keep copies columns into CSV output; --format npy holds only numbers")
        }
      }
    }

    func run() throws {
      if let output, output != "-" {
        try OutputPaths.check(
          outputs: [("--output", output)], inputs: [("--data", options.data), ("--model", options.model)])
      }
      let model = try options.load()
      let names = keep.flatMap { $0.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) } }
        .filter { !$0.isEmpty }
      var sink = try PredictionSink(model: model, output: output, format: format)
      let notes: [DataNote]
      do {
        notes = try model.predict(csvFile: options.data, keep: names) { (chunk) throws(TableError) in
          try sink.write(chunk)
        }
      } catch {
        // The rows before the bad one are kept: the output is complete up to it.
        if error.line != nil && sink.rows > 0, let path = try? sink.finish() {
          StandardError.write(
            "blasnet: wrote the \(sink.rows) predictions of the rows before line \(error.line!) to \(path)\n")
        }
        sink.clearProgress()
        throw error
      }
      tell(notes)
      if let path = try sink.finish() {
        StandardError.write("blasnet: wrote \(sink.rows) predictions to \(path)\n")
      }
    }
  }
}

/// Where `blasnet predict` writes, a chunk at a time: standard output, or a
/// file that appears complete (CSV, or `.npy` whose header gets its shape
/// at the end); a progress line on a terminal.
struct PredictionSink {
  let model: TabularModel
  let format: BLASNetCommand.Predict.OutputFormat
  let writer: AtomicFile.Writer?
  let path: String?
  private(set) var rows = 0
  var wroteHeader = false
  let showsProgress: Bool
  /// The `.npy` header's fixed size: room for any shape.
  static let npyHeaderBytes = 128

  init(model: TabularModel, output: String?, format: BLASNetCommand.Predict.OutputFormat) throws(CLIError) {
    self.model = model
    self.format = format
    if let output, output != "-" {
      do {
        writer = try AtomicFile.Writer(path: output)
      } catch {
        throw CLIError("\(output): cannot write the file: \(error.reason)")
      }
      path = output
    } else {
      writer = nil
      path = nil
    }
    showsProgress = isatty(STDERR_FILENO) == 1 && path != nil
    if format == .npy { try put(Data(count: Self.npyHeaderBytes)) }
  }

  mutating func write(_ chunk: PredictionChunk) throws(TableError) {
    do {
      switch format {
      case .csv: try put(Data(csv(chunk).utf8))
      case .npy: try put(npy(chunk))
      }
    } catch {
      throw TableError(error.description)
    }
    rows += chunk.predictions.count
    if showsProgress {
      StandardError.write("\rblasnet: predicted \(rows) rows (\(Int(chunk.fractionRead * 100)) % of the file)")
    }
  }

  func clearProgress() {
    if showsProgress { StandardError.write("\r\u{1B}[K") }
  }

  /// Completes the output (the `.npy` header, the rename into place); its path, or nil for standard output.
  func finish() throws(CLIError) -> String? {
    clearProgress()
    guard let writer, let path else { return nil }
    do {
      if format == .npy { try writer.overwrite(npyHeader(), at: 0) }
      try writer.commit()
    } catch {
      throw CLIError("\(path): cannot write the file: \(error.reason)")
    }
    return path
  }

  private func put(_ data: Data) throws(CLIError) {
    guard let writer else {
      try StandardOutput.write(data)
      return
    }
    do {
      try writer.write(data)
    } catch {
      throw CLIError("\(path!): cannot write the file: \(error.reason)")
    }
  }

  /// The chunk's rows as CSV (the header first): kept columns, then the
  /// probability and class (two classes), or the class, its probability and
  /// every class's (more).
  private mutating func csv(_ chunk: PredictionChunk) -> String {
    var text = ""
    if !wroteHeader {
      wroteHeader = true
      text += chunk.keptColumns.map { csvField($0.name) + "," }.joined()
      text +=
        model.isRegression
        ? csvField(model.labelName ?? "value") + "\n"
        : model.network.outputSize == 1
          ? "probability,class\n"
          : "class,probability," + model.classes.map { csvField("p_\($0)") }.joined(separator: ",") + "\n"
    }
    for (j, p) in chunk.predictions.enumerated() {
      text += chunk.keptColumns.map { csvField($0.fields[j]) + "," }.joined()
      if let value = p.value {
        text += "\(value)\n"
      } else if model.network.outputSize == 1 {
        text += "\(p.probabilities[1]),\(csvField(p.className))\n"
      } else {
        text += "\(csvField(p.className)),\(p.probability),"
        text += p.probabilities.map { "\($0)" }.joined(separator: ",") + "\n"
      }
    }
    return text
  }

  /// The chunk's probabilities as little-endian float32, a row per example.
  private func npy(_ chunk: PredictionChunk) -> Data {
    // The outputs are n_L × rows, column-major: each example's outputs are contiguous, as C order wants.
    chunk.outputs.elements.withUnsafeBytes { Data($0) }
  }

  /// A version 1.0 header for the rows written, padded to ``npyHeaderBytes``.
  private func npyHeader() -> Data {
    let units = model.network.outputSize
    let shape = units == 1 ? "(\(rows),)" : "(\(rows), \(units))"
    var dictionary = "{'descr': '<f4', 'fortran_order': False, 'shape': \(shape), }"
    let room = Self.npyHeaderBytes - 10
    dictionary += String(repeating: " ", count: room - 1 - dictionary.utf8.count) + "\n"
    var header = Data([0x93]) + Data("NUMPY".utf8) + Data([1, 0])
    header.append(contentsOf: [UInt8(room & 0xFF), UInt8(room >> 8)])
    header.append(Data(dictionary.utf8))
    return header
  }
}

/// `text` as one CSV field: quoted (with doubled quotes) when it has a comma,
/// a quote or a line break.
func csvField(_ text: String) -> String {
  text.contains(where: { $0 == "," || $0 == "\"" || $0.isNewline })
    ? "\"" + text.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : text
}
