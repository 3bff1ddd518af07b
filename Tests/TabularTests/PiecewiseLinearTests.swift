import Foundation
import LinearAlgebra
import NeuralNetwork
import Tabular
import Testing

/// Issue 35, point 3: the piecewise-linear encoding of numeric inputs
/// (`FitOptions.piecewiseLinearBins`) fitted, saved, loaded and applied by
/// every prediction path.
@Suite struct PiecewiseLinearTests {
  /// x uniform on 0…10 and positive only in the band 3 < x < 7 (a label no
  /// single slope of x gives), z noise, and a text column.
  func table() throws -> String {
    var lines = ["x,z,kind,y"]
    var g = Xoshiro256StarStar(seed: 11)
    for _ in 0..<800 {
      let x = Double(g.next() % 10_000) / 1000
      let z = Double(g.next() % 1000) / 100
      lines.append("\(x),\(z),\(g.next() % 2 == 0 ? "a" : "b"),\(x > 3 && x < 7 ? 1 : 0)")
    }
    let path = FileManager.default.temporaryDirectory.appendingPathComponent("bins-\(UUID().uuidString).csv").path
    try (lines.joined(separator: "\n") + "\n").write(toFile: path, atomically: true, encoding: .utf8)
    return path
  }

  func options(bins: Int) -> TabularModel.FitOptions {
    var o = TabularModel.FitOptions()
    o.bootstrap = 0
    o.piecewiseLinearBins = bins
    o.ensembleSize = 1  // (an ensemble is version 7)
    return o
  }

  /// The encoding is fitted on the numbers only (x and z, 8 bins of equal
  /// counts each), the network takes its outputs, the band is learnt, and
  /// the model file is version 6 and loads back equal, predicting the same.
  @Test func aFitEncodesItsNumbersAndTheFileKeepsTheEncoding() throws {
    let path = try table()
    defer { try? FileManager.default.removeItem(atPath: path) }
    let report = try TabularModel.fit(.csvFile(path), options: options(bins: 8))
    let model = report.model
    let encoding = try #require(model.piecewiseLinear)
    #expect(model.inputEncoder.featureNames == ["x", "z", "kind=a", "kind=b"])
    #expect(encoding.edges.map { $0?.count } == [9, 9, nil, nil])
    #expect(encoding.outputCount == 9 + 9 + 1 + 1 && model.network.inputSize == 20)
    #expect(model.inputWidth == 4)
    #expect(report.preparation.network.inputSize == 20 && report.preparation.piecewiseLinear != nil)
    // The edges are quantiles of the standardised x: increasing, the extremes the training extremes.
    let scaledX = try #require(encoding.edges[0])
    #expect(zip(scaledX, scaledX.dropFirst()).allSatisfy { $0 < $1 })
    #expect(try #require(report.metrics.last?.binary?.accuracy) > 0.9)

    let data = try model.encoded()
    let header = try JSONSerialization.jsonObject(with: data) as? [String: Any]
    #expect(header?["version"] as? Int == 6)
    let loaded = try TabularModel.decode(data)
    #expect(loaded == model)
    let records = [
      ["x": "5", "z": "1", "kind": "a"], ["x": "9.5", "z": "4", "kind": "b"], ["x": "1", "z": "9", "kind": "a"],
    ]
    let predicted = try loaded.predict(records)
    #expect(predicted.map(\.className) == ["1", "0", "0"])
    #expect(predicted.map(\.probability) == (try model.predict(records)).map(\.probability))
    // The CSV path agrees with the record path.
    let csv = path + ".new.csv"
    try "kind,x,z\na,5,1\nb,9.5,4\na,1,9\n".write(toFile: csv, atomically: true, encoding: .utf8)
    defer { try? FileManager.default.removeItem(atPath: csv) }
    #expect(try loaded.predict(csvFile: csv).predictions.map(\.probability) == predicted.map(\.probability))
  }

  /// Edges where the label changes (`binEdges = .target`, 3 bins): x's
  /// inner edges are the band's ends, 3 and 7 once unscaled (within the gap
  /// between neighbouring training values), where quantile edges would sit
  /// near 3.3 and 6.7; a streamed fit finds the same edges.
  @Test func targetEdgesFindTheBandsEnds() throws {
    let path = try table()
    defer {
      try? FileManager.default.removeItem(atPath: path)
      try? FileManager.default.removeItem(atPath: path + ".blasnet-cache")
    }
    var o = options(bins: 3)
    o.binEdges = .target
    o.scaling = .standard
    o.epochs = 20
    let model = try TabularModel.fit(.csvFile(path), options: o).model
    let edges = try #require(model.piecewiseLinear?.edges[0])
    let scaler = try #require(model.standardizer)
    let inner = edges.dropFirst().dropLast().map { $0 * scaler.standardDeviations[0] + scaler.means[0] }
    #expect(inner.count == 2)
    #expect(inner.count == 2 && abs(inner[0] - 3) < 0.05 && abs(inner[1] - 7) < 0.05, "\(inner)")
    o.streaming = .always
    let streamed = try TabularModel.fit(.csvFile(path), options: o).model
    #expect(streamed.piecewiseLinear == model.piecewiseLinear)
  }

  /// A streamed fit (the rows read from the cache batch by batch) fits the
  /// same edges as the fit in memory and makes the same network.
  @Test func aStreamedFitEncodesAsTheFitInMemory() throws {
    let path = try table()
    defer {
      try? FileManager.default.removeItem(atPath: path)
      try? FileManager.default.removeItem(atPath: path + ".blasnet-cache")
    }
    var o = options(bins: 4)
    o.epochs = 20
    let memory = try TabularModel.fit(.csvFile(path), options: o).model
    o.streaming = .always
    let streamed = try TabularModel.fit(.csvFile(path), options: o)
    #expect(streamed.preparation.cacheFolder != nil)
    #expect(streamed.model.piecewiseLinear == memory.piecewiseLinear)
    #expect(streamed.model.network.sizes == memory.network.sizes)
    let records = [["x": "4", "z": "2", "kind": "b"], ["x": "8", "z": "7", "kind": "a"]]
    let (a, b) = (try streamed.model.predict(records), try memory.predict(records))
    for (p, q) in zip(a, b) { #expect(abs(p.probability - q.probability) < 1e-4) }
  }

  /// The loader checks the encoding against the version, the network and the encoder.
  @Test func aFileWithAnEncodingIsCheckedOnLoad() throws {
    let path = try table()
    defer { try? FileManager.default.removeItem(atPath: path) }
    var o = options(bins: 3)
    o.epochs = 3
    let model = try TabularModel.fit(.csvFile(path), options: o).model
    let json = String(decoding: try model.encoded(), as: UTF8.self)
    func refusal(_ text: String) -> String {
      do {
        _ = try TabularModel.decode(Data(text.utf8), path: "edited.json")
        return "loaded"
      } catch {
        return error.description
      }
    }
    #expect(
      refusal(json.replacingOccurrences(of: #""version":6"#, with: #""version":5"#)).contains(
        "a piecewise-linear encoding needs format version 6, the file says 5"))
    func edited(_ change: (inout PiecewiseLinearEncoding) -> Void) throws -> String {
      var edited = model
      change(&edited.piecewiseLinear!)
      return String(decoding: try edited.encoded(), as: UTF8.self)
    }
    #expect(
      refusal(try edited { $0.edges[2] = [0, 1] }).contains(
        "the piecewise-linear encoding makes 11 inputs for 10"))
    #expect(
      refusal(try edited { $0.edges[0] = [0, 1, 1, 2] }).contains(
        "the piecewise-linear encoding: the edges of input 1 do not increase"))
    // z's bins moved to the category kind=a: as many outputs, but on a one-hot input.
    #expect(
      refusal(
        try edited {
          $0.edges[2] = $0.edges[1]
          $0.edges[1] = nil
        }
      ).contains("input 3 is a category's or a missing indicator, but has piecewise-linear bins"))
  }

  /// Without a count, the bins keep 8 training rows per binned input,
  /// from 4 to 16: rows / (8 × numeric inputs).
  @Test func theDefaultBinsGrowWithTheRowsPerNumericInput() throws {
    let o = TabularModel.FitOptions()
    #expect(o.piecewiseLinearBins == nil)
    #expect(o.bins(trainingRows: 220, numericInputs: 4) == 6)  // 220 / 32
    #expect(o.bins(trainingRows: 659, numericInputs: 8) == 10)  // 659 / 64
    #expect(o.bins(trainingRows: 1292, numericInputs: 56) == 4)  // 2, raised to 4
    #expect(o.bins(trainingRows: 34522, numericInputs: 6) == 16)  // 719, capped at 16
    #expect(o.bins(trainingRows: 50, numericInputs: 0) == 6)  // no numbers: counted as one
    var fixed = o
    fixed.piecewiseLinearBins = 7
    #expect(fixed.bins(trainingRows: 34522, numericInputs: 6) == 7)
    fixed.piecewiseLinearBins = 0
    #expect(fixed.bins(trainingRows: 34522, numericInputs: 6) == 0)

    // A fit: 800 rows, 640 after the test split, 512 after validation; x and z are numbers: 512 / 16 = 32 → 16 bins.
    let path = try table()
    defer { try? FileManager.default.removeItem(atPath: path) }
    var automatic = options(bins: 0)
    automatic.piecewiseLinearBins = nil
    let report = try TabularModel.fit(.csvFile(path), options: automatic)
    #expect(report.preparation.trainCount == 512)
    #expect(try #require(report.model.piecewiseLinear).edges.map { $0?.count } == [17, 17, nil, nil])
  }

  @Test func binsAreCheckedAsAnOption() throws {
    var o = TabularModel.FitOptions()
    o.piecewiseLinearBins = 1
    #expect {
      try o.validate()
    } throws: {
      "\($0)" == "piecewiseLinearBins must be 0 (off) or from 2 to 1024, got 1"
        && ($0 as? TableError)?.settings.first == .piecewiseLinearBins
    }
  }
}
