import Foundation
import LinearAlgebra
import NeuralNetwork
import Tabular
import Testing

@testable import TabularONNX

/// The interchange fixtures (Benchmarks/Python/interchange_fixtures.py), shared with TabularTests.
let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
  .appendingPathComponent("../TabularTests/Fixtures/interchange").standardized

/// The largest relative difference between `model`'s outputs on inputs.csv
/// (probabilities, or values) and the columns of `expected`; for a value below
/// 1 in size (a regression's), the absolute difference (Float keeps about 10⁻⁷
/// of the terms summed, not of a small result).
func largestDifference(_ model: TabularModel, expected: String) throws -> Double {
  let predictions = try model.predict(csvFile: fixtures.appendingPathComponent("inputs.csv").path).predictions
  let rows = try String(contentsOf: fixtures.appendingPathComponent(expected), encoding: .utf8)
    .split(separator: "\n").dropFirst().map { $0.split(separator: ",").map { Double($0)! } }
  #expect(predictions.count == 1000 && rows.count == 1000)
  var worst = 0.0
  for (p, e) in zip(predictions, rows) {
    let got: [Double] =
      if let value = p.value { [value] } else if e.count == 1 { [Double(p.probabilities[1])] } else {
        p.probabilities.map(Double.init)
      }
    #expect(got.count == e.count)
    let floor = p.value == nil ? 1e-30 : 1
    for (g, x) in zip(got, e) { worst = max(worst, abs(g - x) / max(abs(x), floor)) }
  }
  return worst
}

@Suite struct ONNXImportTests {
  func path(_ name: String) -> String { fixtures.appendingPathComponent(name).path }

  /// skl2onnx's MLPClassifier (two classes: Sigmoid, then Sub/Concat/ArgMax/ZipMap
  /// left out), a three-class one (Softmax), and an MLPRegressor (Reshape left out).
  @Test func scikitLearnMLPsThroughSkl2onnxReproduceTheirOutputs() throws {
    let binary = try TabularModel.importWeights(onnx: path("sklearn-binary.onnx"))
    #expect(binary.model.network.sizes == [5, 8, 4, 1] && binary.model.network.outputActivation == .sigmoid)
    #expect(binary.model.classNames == ["0.0", "1.0"] || binary.model.classNames == ["0", "1"])
    #expect(binary.ignored.contains("ZipMap") && binary.ignored.contains("ArgMax"))
    #expect(try largestDifference(binary.model, expected: "expected-sklearn-binary.csv") < 1e-5)

    let three = try TabularModel.importWeights(onnx: path("sklearn-classes.onnx"))
    #expect(three.model.network.sizes == [5, 10, 3] && three.model.network.outputActivation == .softmax)
    #expect(three.model.classNames == ["0", "1", "2"])
    #expect(try largestDifference(three.model, expected: "expected-sklearn-classes.csv") < 1e-5)

    let regressor = try TabularModel.importWeights(onnx: path("sklearn-regressor.onnx"))
    #expect(regressor.model.isRegression && regressor.model.network.sizes == [5, 8, 1])
    let worst = try largestDifference(regressor.model, expected: "expected-sklearn-regressor.csv")
    #expect(worst < 1e-5, "\(worst)")
  }

  /// torch.onnx.export of a network trained in PyTorch (Gemm, Relu, Tanh, Sigmoid).
  @Test func torchOnnxExportOfATrainedNetworkReproducesPyTorch() throws {
    let report = try TabularModel.importWeights(onnx: path("torch-mlp.onnx"))
    #expect(report.model.network.sizes == [5, 16, 8, 1])
    #expect(report.model.network.layers.map(\.activation) == [.relu, .tanh, .sigmoid])
    let worst = try largestDifference(report.model, expected: "expected-torch-mlp.csv")
    #expect(worst < 1e-5, "\(worst)")
  }

  /// torch.onnx.export's shape of an nn.Sequential: Gemm (transB = 1) with
  /// `fc1.weight`, LeakyRelu, a bias from a Constant node, Softmax.
  @Test func aTorchStyleGraphWithGemmAndLeakyReLUImports() throws {
    let report = try TabularModel.importWeights(onnx: path("torch-sequential.onnx"))
    #expect(report.model.network.sizes == [5, 6, 3])
    #expect(report.layers.map(\.weight) == ["fc1.weight", "fc2.weight"] && report.layers[1].bias == "fc2.bias")
    #expect(report.largestRounding == 0)
    #expect(try largestDifference(report.model, expected: "expected-torch-sequential.csv") < 1e-5)
    // The same with float64 weights: converted, the rounding reported.
    let f64 = try TabularModel.importWeights(onnx: path("torch-sequential-f64.onnx"))
    #expect(f64.largestRounding > 0 && f64.largestRounding < 6e-8)
  }
}

@Suite struct ONNXRoundTripTests {
  /// A table of four numeric columns in very different units (so that the
  /// standardisation matters) and three labels: a class, two classes, a number.
  static let table: String = {
    var lines = ["age,dose,ratio,count,kind,sick,level"]
    for i in 0..<400 {
      let age = 20 + Double((i * 37) % 60)
      let dose = 1000 + Double((i * 91) % 500) * 3.5
      let ratio = Double((i * 13) % 100) / 100
      let count = Double((i * 7) % 11)
      let kind = ["a", "b", "c"][(Int(age) / 10 + Int(ratio * 10)) % 3]
      let sick = age / 80 + ratio - 0.3 * count / 11 > 0.9 ? "yes" : "no"
      let level = 0.02 * age + 0.001 * dose - ratio + 0.1 * count
      lines.append("\(age),\(dose),\(ratio),\(count),\(kind),\(sick),\(level)")
    }
    return lines.joined(separator: "\n") + "\n"
  }()

  /// A model of `label`; `text: true` keeps `kind` as an input (one-hot),
  /// and `ratio` then has missing values (filled with the training mean).
  func trained(
    label: String, task: TabularModel.Task = .classification, calibration: TabularModel.CalibrationMethod? = nil,
    text: Bool = false
  )
    throws -> (TabularModel, String)
  {
    let csv = FileManager.default.temporaryDirectory.appendingPathComponent("roundtrip-\(UUID().uuidString).csv").path
    var table = Self.table
    if text {
      // Every 9th row's ratio missing.
      table =
        table.split(separator: "\n").enumerated().map { k, line in
          guard k > 0, k % 9 == 0 else { return String(line) }
          var fields = line.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
          fields[2] = "NA"
          return fields.joined(separator: ",")
        }.joined(separator: "\n") + "\n"
    }
    try table.write(toFile: csv, atomically: true, encoding: .utf8)
    var options = TabularModel.FitOptions()
    options.label = label
    options.task = task
    options.missing = .mean
    options.ignoredColumns = (text ? ["sick", "level"] : ["kind", "sick", "level"]).filter { $0 != label }
    options.hiddenLayers = [12, 6]
    options.epochs = 30
    // Standardised inputs, whose Sub and Div nodes the importer folds (quantile maps: below).
    options.scaling = .standard
    // (Missing indicators are exported but not imported: below.)
    options.missingIndicators = false
    if let calibration {
      options.calibration = calibration
      options.ensembleSize = 1  // (a calibrated ensemble has no ONNX form: below)
    }
    return (try TabularModel.fit(.csvFile(csv), options: options).model, csv)
  }

  /// A model with quantile maps (the default scaling) exports them as
  /// Max/Min/Gather/… nodes; the importer reads them back into the model's
  /// maps, and the imported model predicts as the original does, a text
  /// column and missing values included.
  @Test func quantileMapsComeBack() throws {
    let (_, csv) = try trained(label: "sick", text: true)
    defer { try? FileManager.default.removeItem(atPath: csv) }
    var options = TabularModel.FitOptions()
    options.label = "sick"
    options.missing = .mean
    options.ignoredColumns = ["level"]
    options.hiddenLayers = [12, 6]
    options.epochs = 30
    options.missingIndicators = false
    let model = try TabularModel.fit(.csvFile(csv), options: options).model
    let maps = try #require(model.standardizer?.quantileMaps)
    #expect(maps.contains { $0 != nil } && maps.contains { $0 == nil })
    let path = FileManager.default.temporaryDirectory.appendingPathComponent("maps-\(UUID()).onnx").path
    defer { try? FileManager.default.removeItem(atPath: path) }
    try model.exportONNX(to: path)
    // A folder that does not exist: a typed error naming the path, nothing written.
    let nowhere = FileManager.default.temporaryDirectory.appendingPathComponent("no-such-\(UUID())/m.onnx").path
    let refused = #expect(throws: ONNXExportError.self) { try model.exportONNX(to: nowhere) }
    if case .write(let named, let reason)? = refused {
      #expect(named == nowhere && reason.contains("No such file or directory"), "\(reason)")
    } else {
      Issue.record("not a write error: \(String(describing: refused))")
    }
    #expect(!FileManager.default.fileExists(atPath: nowhere))
    let imported = try TabularModel.importWeights(onnx: path).model
    let back = try #require(imported.standardizer?.quantileMaps)
    #expect(back.count == maps.count)
    for (a, b) in zip(maps, back) {
      #expect((a == nil) == (b == nil))
      guard let a, let b else { continue }
      #expect(b.knots == a.knots.map { Double(Float($0)) })
      #expect(zip(a.scores, b.scores).allSatisfy { abs($0 - $1) <= 1e-6 * max(1, abs($0)) }, "\(a.scores) \(b.scores)")
    }
    #expect(try difference(model, imported, on: csv) < 1e-5)
    // Saved, the imported model loads again (version 4).
    #expect(throws: Never.self) { try TabularModel.decode(try imported.encoded()) }
    // The segments are found by a binary search: one GreaterOrEqual per halving of a
    // table padded to a power of two above the most inner knots, no comparison with every knot.
    let graph = try Onnx_ModelProto(serializedBytes: model.onnxModel()).graph
    let most = maps.map { ($0?.knots.count ?? 2) - 2 }.max()!
    var padded = 1
    while padded <= most { padded *= 2 }
    let halvings = graph.node.filter { $0.opType == "GreaterOrEqual" && $0.input.first != "probability" }
    #expect(halvings.count == padded.trailingZeroBitCount)
    #expect(!graph.node.contains { $0.opType == "Less" || $0.opType == "MatMul" })
    // One row of the table per numeric column (the clip's bounds have one each).
    let table = try #require(graph.initializer.first { $0.name.hasPrefix("knot_table") })
    let low = try #require(graph.initializer.first { $0.name.hasPrefix("low") })
    #expect(table.dims == [low.dims[0] * Int64(padded)])
  }

  /// Numeric columns of two values each: quantile maps with no inner knot,
  /// so no search (a count of 0 as `Cast(Mul(x, 0))`, no table left unused
  /// in the graph); read back, the same maps and predictions.
  @Test func quantileMapsWithNoInnerKnotExportWithoutASearch() throws {
    let rows: [[String]] = (0..<120).map { r in
      let (a, b) = (r % 2, (r / 2) % 2)
      return ["\(a)", "\(b)", a + b + (r % 5 == 0 ? 1 : 0) > 1 ? "yes" : "no"]
    }
    var options = TabularModel.FitOptions()
    options.label = "y"
    options.epochs = 5
    let model = try TabularModel.fit(.rows(header: ["a", "b", "y"], rows: rows, name: "two.csv"), options: options)
      .model
    let maps = try #require(model.standardizer?.quantileMaps)
    #expect(maps.allSatisfy { ($0?.knots.count ?? 2) == 2 })
    let graph = try Onnx_ModelProto(serializedBytes: model.onnxModel()).graph
    #expect(!graph.initializer.contains { $0.name.hasPrefix("knot_table") })
    #expect(!graph.node.contains { $0.opType == "Where" })
    let back = try TabularModel.importWeights(onnxBytes: model.onnxModel(), path: "two.onnx", activations: nil).model
    #expect(back.standardizer?.quantileMaps?.count == maps.count)
    let csv = FileManager.default.temporaryDirectory.appendingPathComponent("two-\(UUID()).csv").path
    defer { try? FileManager.default.removeItem(atPath: csv) }
    try (["a,b,y"] + rows.map { $0.joined(separator: ",") }).joined(separator: "\n").appending("\n")
      .write(toFile: csv, atomically: true, encoding: .utf8)
    #expect(try difference(model, back, on: csv) < 1e-5)
  }

  /// A file written by the export before the binary search (the segments
  /// counted by Gather, Less, Not, Cast and MatMul over every inner knot;
  /// `blasnet export` of commit ce9e878, iris with 6 hidden units) still
  /// imports, and predicts what that build's `blasnet predict` wrote.
  @Test func aQuantileMapExportedBeforeTheSearchImports() throws {
    let folder = fixtures.deletingLastPathComponent()
    let model = try TabularModel.importWeights(onnx: folder.appendingPathComponent("iris-quantile-v1.onnx").path).model
    let iris = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
      .appendingPathComponent("../../Examples/tables/iris.csv").standardized.path
    let predictions = try model.predict(csvFile: iris).predictions
    let rows = try String(
      contentsOf: folder.appendingPathComponent("iris-quantile-v1-predictions.csv"), encoding: .utf8
    ).split(separator: "\n").dropFirst().map { $0.split(separator: ",") }
    #expect(predictions.count == 150 && rows.count == 150)
    var worst = 0.0
    for (p, row) in zip(predictions, rows) {
      #expect(p.className == String(row[0]))
      for (k, q) in p.probabilities.enumerated() {
        let expected = try #require(Double(row[2 + k]))
        worst = max(worst, abs(Double(q) - expected) / max(expected, 1e-30))
      }
    }
    #expect(worst < 1e-5, "largest relative difference \(worst)")
    // Exported again, it has the search, and comes back with the same maps.
    let again = try TabularModel.importWeights(onnxBytes: model.onnxModel(), path: "again.onnx", activations: nil).model
    #expect(again.standardizer?.quantileMaps == model.standardizer?.quantileMaps)
    let ops = try Onnx_ModelProto(serializedBytes: model.onnxModel()).graph.node.map(\.opType)
    #expect(ops.contains("GreaterOrEqual") && !ops.contains("Less"))
  }

  /// import(export(model)) predicts as the model does on the raw rows: the
  /// standardisation, folded or in Sub and Div nodes (which the importer
  /// folds into the first layer), the 1/(1 + e^(−z))
  /// output reads as a sigmoid; names, classes and threshold come back from
  /// the metadata.
  @Test func anExportedModelImportsAndPredictsTheSame() throws {
    for (label, task) in [
      ("sick", TabularModel.Task.classification), ("kind", .classification), ("level", .regression),
    ] {
      let (model, csv) = try trained(label: label, task: task)
      defer { try? FileManager.default.removeItem(atPath: csv) }
      for folding in [true, false] {
        let back = try TabularModel.importWeights(
          onnxBytes: model.onnxModel(foldingStandardization: folding), path: "\(label).onnx", activations: nil)
        #expect(back.model.featureNames == ["age", "dose", "ratio", "count"], "\(label)")
        #expect(back.model.network.sizes == model.network.sizes, "\(label)")
        // The default ensemble's two networks: a Mean of two chains, read back as two.
        #expect(model.networks.count == 2 && back.model.networks.count == 2, "\(label)")
        if task == .classification {
          #expect(
            back.model.classNames == model.classNames && back.model.decisionThreshold == model.decisionThreshold,
            "\(label)")
        }
        let before = try model.predict(csvFile: csv).predictions
        let after = try back.model.predict(csvFile: csv).predictions
        // Relative: the value, the positive class's probability, or the
        // predicted class's; absolute: every probability (a small one has
        // the relative error of its logit, which Float sums differently on
        // OpenBLAS and BLIS: 1.7e-5 was seen on BLIS).
        var worst = 0.0
        var absolute = 0.0
        for (a, b) in zip(before, after) {
          #expect(a.classIndex == b.classIndex)
          if let v = a.value {
            worst = max(worst, abs(v - b.value!) / max(abs(v), 1))
          } else {
            let k = a.probabilities.count == 2 ? 1 : a.classIndex
            let (p, q) = (Double(a.probabilities[k]), Double(b.probabilities[k]))
            worst = max(worst, abs(p - q) / p)
            for (x, y) in zip(a.probabilities, b.probabilities) { absolute = max(absolute, abs(Double(x) - Double(y))) }
          }
        }
        #expect(worst < 1e-5 && absolute < 1e-6, "\(label), folding \(folding): \(worst) relative, \(absolute)")
      }
    }
  }

  /// The largest relative difference of two two-class models' positive-class
  /// probabilities on `csv` (the same classes expected).
  func difference(_ a: TabularModel, _ b: TabularModel, on csv: String) throws -> Double {
    var worst = 0.0
    for (p, q) in zip(try a.predict(csvFile: csv).predictions, try b.predict(csvFile: csv).predictions) {
      #expect(p.classIndex == q.classIndex)
      let (x, y) = (Double(p.probabilities[1]), Double(q.probabilities[1]))
      worst = max(worst, abs(x - y) / max(x, 1e-30))
    }
    return worst
  }

  /// A model with a text column and a filled numeric column exports the
  /// Imputer, Gather, OneHotEncoder and Concat; the importer reads them
  /// back into an encoder with the same columns, categories and fill. A
  /// Platt- or temperature-calibrated sigmoid (Clip, Mul, Add) comes back
  /// as the calibrator.
  @Test func textColumnsFillsAndCalibrationComeBack() throws {
    for calibration in [nil, TabularModel.CalibrationMethod.platt, .temperature] {
      let (model, csv) = try trained(label: "sick", calibration: calibration, text: true)
      defer { try? FileManager.default.removeItem(atPath: csv) }
      for folding in [true, false] {
        let back = try TabularModel.importWeights(
          onnxBytes: model.onnxModel(foldingStandardization: folding), path: "mixed.onnx", activations: nil)
        let columns = back.model.inputEncoder.columns
        #expect(columns.map(\.name) == ["age", "dose", "ratio", "count", "kind"])
        #expect(columns[4].encoding == model.inputEncoder.columns[4].encoding)
        // The fill of ratio, rounded to Float in the graph.
        guard case .numeric(let fill?) = columns[2].encoding,
          case .numeric(let trained?) = model.inputEncoder.columns[2].encoding
        else {
          Issue.record("ratio has no fill: \(columns[2].encoding)")
          continue
        }
        #expect(abs(fill - trained) < 1e-6 * abs(trained))
        #expect(back.model.calibrator?.method == model.calibrator?.method)
        let worst = try difference(model, back.model, on: csv)
        #expect(worst < 1e-5, "\(calibration?.rawValue ?? "none"), folding \(folding): \(worst)")
      }
    }
  }

  /// An ensemble of three exports one chain of layers per network from the
  /// shared inputs and a `Mean` of their outputs; the importer reads the
  /// three back (each network's weights to Float precision). A `Mean` that
  /// averages something else is refused naming it, and a calibrated
  /// ensemble is not exported.
  @Test func anEnsembleExportsAsAMeanOfItsNetworksAndComesBack() throws {
    let (model, csv) = try trained(label: "kind", text: true)
    defer { try? FileManager.default.removeItem(atPath: csv) }
    var three = model
    var third = model.networks[1]
    for l in 1...third.depth { third.setWeights(l, third.weights(l) * 0.5) }
    three.networks.append(third)
    let bytes = try three.onnxModel()
    let graph = try Onnx_ModelProto(serializedBytes: bytes).graph
    let mean = try #require(graph.node.first { $0.opType == "Mean" })
    #expect(mean.input.count == 3 && graph.node.filter { $0.opType == "Gemm" }.count == 3 * model.network.depth)
    let back = try TabularModel.importWeights(onnxBytes: bytes, path: "three.onnx", activations: nil)
    #expect(back.model.networks.count == 3)
    for (a, b) in zip(back.model.networks, three.networks) {
      #expect(a.sizes == b.sizes)
      for l in 1...a.depth {
        let (w, v) = (a.weights(l).elements, b.weights(l).elements)
        #expect(zip(w, v).allSatisfy { abs($0 - $1) <= 1e-6 * max(1, abs($1)) }, "layer \(l)")
      }
    }
    let before = try three.predict(csvFile: csv).predictions
    let after = try back.model.predict(csvFile: csv).predictions
    #expect(before.map(\.className) == after.map(\.className))
    #expect(
      zip(before, after).allSatisfy { p, q in zip(p.probabilities, q.probabilities).allSatisfy { abs($0 - $1) < 1e-5 } }
    )

    var damaged = try Onnx_ModelProto(serializedBytes: bytes)
    let k = try #require(damaged.graph.node.firstIndex { $0.opType == "Mean" })
    damaged.graph.node[k].input[2] = damaged.graph.node[k].input[0]
    #expect {
      try TabularModel.importWeights(onnxBytes: damaged.serializedBytes(), path: "damaged.onnx", activations: nil)
    } throws: { "\($0)".contains("Mean") && "\($0)".contains("not the outputs of the 3 networks") }

    var calibrated = model
    calibrated.calibrator = .temperature(1.5)
    #expect(throws: ONNXExportError.self) { try calibrated.onnxModel() }
  }

  /// An exported model's OneHotEncoder with a category listed twice (a
  /// file edited, or written by another tool): refused naming the node and
  /// the category, where it used to import into a model file that does not load.
  @Test func aOneHotEncoderListingACategoryTwiceIsRefused() throws {
    let (model, csv) = try trained(label: "sick", text: true)
    defer { try? FileManager.default.removeItem(atPath: csv) }
    var graph = try Onnx_ModelProto(serializedBytes: model.onnxModel())
    let k = try #require(graph.graph.node.firstIndex { $0.opType == "OneHotEncoder" })
    let a = try #require(graph.graph.node[k].attribute.firstIndex { $0.name == "cats_strings" })
    let categories = graph.graph.node[k].attribute[a].strings
    #expect(categories.count >= 2)
    graph.graph.node[k].attribute[a].strings.append(categories[0])
    let name = graph.graph.node[k].name
    let category = String(decoding: categories[0], as: UTF8.self)
    #expect {
      try TabularModel.importWeights(onnxBytes: graph.serializedBytes(), path: "twice.onnx", activations: nil)
    } throws: {
      "\($0)" == "twice.onnx: node \"\(name)\" (OneHotEncoder): category \"\(category)\" appears twice in cats_strings"
    }
  }

  /// A model with a missing indicator (ratio, missing in every 9th row)
  /// exports it as Gather → IsNaN → Cast on the raw numbers, beside the
  /// Imputer; the importer reads it back as the column's indicator, and the
  /// imported model predicts as the original on the rows with gaps.
  @Test func missingIndicatorsExportAndComeBack() throws {
    let (_, csv) = try trained(label: "sick", text: true)
    defer { try? FileManager.default.removeItem(atPath: csv) }
    var options = TabularModel.FitOptions()
    options.label = "sick"
    options.ignoredColumns = ["level"]
    options.epochs = 5
    let model = try TabularModel.fit(.csvFile(csv), options: options).model
    #expect(model.inputEncoder.featureNames.contains("ratio missing"))
    let graph = try Onnx_ModelProto(serializedBytes: model.onnxModel()).graph
    let isNaN = try #require(graph.node.first { $0.opType == "IsNaN" })
    let gather = try #require(graph.node.first { $0.output.first == isNaN.input.first })
    #expect(gather.opType == "Gather" && gather.input.first == "input")
    let imported = try TabularModel.importWeights(onnxBytes: model.onnxModel(), path: "flags.onnx", activations: nil)
      .model
    #expect(imported.inputEncoder.featureNames == model.inputEncoder.featureNames)
    let ratio = try #require(imported.inputEncoder.columns.first { $0.name == "ratio" })
    #expect(ratio.missingIndicator && ratio.allowsMissing)
    #expect(try difference(model, imported, on: csv) < 1e-5)
    // A row whose ratio is missing: the indicator, not the fill alone, decides.
    let row: [String: String] = ["age": "50", "dose": "1500", "ratio": "NA", "count": "3", "kind": "b"]
    let (a, b) = (try model.predict(row), try imported.predict(row))
    #expect(abs(a.probability - b.probability) < 1e-5)
    // Saved, the imported model loads again (version 5 or later).
    #expect(try TabularModel.decode(try imported.encoded()) == imported)
    // Damaged: the indicator read as an Int cast, or of a column twice, is refused by name.
    var damaged = try Onnx_ModelProto(serializedBytes: model.onnxModel())
    let cast = try #require(damaged.graph.node.firstIndex { $0.input.first == isNaN.output.first })
    damaged.graph.node[cast].attribute = [
      Onnx_AttributeProto.with {
        $0.name = "to"
        $0.type = .int
        $0.i = 7
      }
    ]
    #expect {
      try TabularModel.importWeights(onnxBytes: damaged.serializedBytes(), path: "cast.onnx", activations: nil)
    } throws: { "\($0)".contains("missing indicators are read only as BLASNet exports them") }
  }

  /// A text column missing in training rows has a missing indicator (a
  /// category of its own); the graph computes it as a second
  /// OneHotEncoder over every spelling of the missing markers (each ASCII
  /// letter in either case, as BLASNet compares them) summed by a MatMul
  /// into one input; the importer reads the markers back from the
  /// spellings, and the imported model predicts as the original.
  @Test func aTextColumnsMissingIndicatorExportsAsAOneHotOfTheMarkersSpellings() throws {
    #expect(try ONNXWriter.markerSpellings(["NA", "?"]) == ["", "na", "Na", "nA", "NA", "?"])
    #expect(try ONNXWriter.markerSpellings(TabularEncoder.defaultMissingMarkers).count == 1 + 4 + 4 + 8 + 1 + 16)
    #expect(throws: ONNXExportError.self) { try ONNXWriter.markerSpellings(["notavailable"]) }
    let lines = ONNXRoundTripTests.table.split(separator: "\n").map(String.init)
    let header = lines[0].split(separator: ",").map(String.init)
    let rows = lines.dropFirst().enumerated().map { k, line -> [String] in
      var fields = line.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
      if k % 6 == 0 { fields[4] = ["", "na", "NULL"][k % 3] }
      return fields
    }
    var options = TabularModel.FitOptions()
    options.label = "sick"
    options.ignoredColumns = ["level"]
    options.epochs = 5
    let model = try TabularModel.fit(.rows(header: header, rows: rows, name: "gaps.csv"), options: options).model
    #expect(model.inputEncoder.featureNames.suffix(4) == ["kind=a", "kind=b", "kind=c", "kind missing"])
    let graph = try Onnx_ModelProto(serializedBytes: model.onnxModel()).graph
    let producer = Dictionary(graph.node.map { ($0.output.first ?? "", $0) }, uniquingKeysWith: { a, _ in a })
    let matMul = try #require(
      graph.node.first { $0.opType == "MatMul" && producer[$0.input.first ?? ""]?.opType == "OneHotEncoder" })
    let spelled = try #require(producer[matMul.input[0]])
    #expect(producer[spelled.input[0]]?.opType == "Gather")
    let strings = spelled.attribute.first { $0.name == "cats_strings" }?.strings.map {
      String(decoding: $0, as: UTF8.self)
    }
    #expect(strings == (try ONNXWriter.markerSpellings(TabularEncoder.defaultMissingMarkers)))
    let imported = try TabularModel.importWeights(onnxBytes: model.onnxModel(), path: "gaps.onnx", activations: nil)
      .model
    #expect(imported.inputEncoder.featureNames == model.inputEncoder.featureNames)
    #expect(imported.inputEncoder.columns.first { $0.name == "kind" }?.missingIndicator == true)
    #expect(imported.inputEncoder.missingMarkers == TabularEncoder.defaultMissingMarkers.map { $0.lowercased() })
    let csv = FileManager.default.temporaryDirectory.appendingPathComponent("gaps-\(UUID()).csv").path
    defer { try? FileManager.default.removeItem(atPath: csv) }
    try ([header.joined(separator: ",")] + rows.map { $0.joined(separator: ",") }).joined(separator: "\n")
      .appending("\n").write(toFile: csv, atomically: true, encoding: .utf8)
    #expect(try difference(model, imported, on: csv) < 1e-5)
    // A spelling left out of the markers' OneHotEncoder is refused by name.
    var damaged = try Onnx_ModelProto(serializedBytes: model.onnxModel())
    let k = try #require(damaged.graph.node.firstIndex { $0.name == spelled.name })
    let a = try #require(damaged.graph.node[k].attribute.firstIndex { $0.name == "cats_strings" })
    damaged.graph.node[k].attribute[a].strings.removeLast()
    #expect {
      try TabularModel.importWeights(onnxBytes: damaged.serializedBytes(), path: "spelled.onnx", activations: nil)
    } throws: {
      "\($0)".contains("a text column's missing indicator must spell its markers in every case")
    }
    // Past maxCategories: two categories kept, then missing, then the others, which the
    // graph computes as 1 − (the kept ones) − (missing); read back, the same predictions.
    options.maxCategories = 2
    let grouped = try TabularModel.fit(.rows(header: header, rows: rows, name: "gaps.csv"), options: options).model
    let kind = try #require(grouped.inputEncoder.columns.first { $0.name == "kind" })
    #expect(kind.otherCategory && kind.missingIndicator && kind.width == 4)
    #expect(grouped.inputEncoder.featureNames.suffix(2) == ["kind missing", "kind=(other)"])
    let groupedGraph = try Onnx_ModelProto(serializedBytes: grouped.onnxModel()).graph
    let sums = Set(groupedGraph.node.filter { $0.opType == "Add" }.compactMap(\.output.first))
    let others = try #require(groupedGraph.node.first { $0.opType == "Sub" && sums.contains($0.input.last ?? "") })
    #expect(groupedGraph.node.contains { $0.opType == "Concat" && $0.input.contains(others.output[0]) })
    let back = try TabularModel.importWeights(onnxBytes: grouped.onnxModel(), path: "others.onnx", activations: nil)
      .model
    #expect(back.inputEncoder.featureNames == grouped.inputEncoder.featureNames)
    #expect(back.inputEncoder.columns.first { $0.name == "kind" }?.otherCategory == true)
    #expect(try difference(grouped, back, on: csv) < 1e-5)
    // Without missing indicators, a missing value is no category and not one of the others:
    // the graph still subtracts the markers' sum, which is no input of its own.
    options.missingIndicators = false
    let plain = try TabularModel.fit(.rows(header: header, rows: rows, name: "gaps.csv"), options: options).model
    let plainKind = try #require(plain.inputEncoder.columns.first { $0.name == "kind" })
    #expect(plainKind.otherCategory && !plainKind.missingIndicator && plainKind.allowsMissing && plainKind.width == 3)
    let plainGraph = try Onnx_ModelProto(serializedBytes: plain.onnxModel()).graph
    #expect(plainGraph.node.filter { $0.opType == "OneHotEncoder" }.count == 2)
    let plainBack = try TabularModel.importWeights(onnxBytes: plain.onnxModel(), path: "plain.onnx", activations: nil)
      .model
    #expect(plainBack.inputEncoder.columns.first { $0.name == "kind" } == plainKind)
    #expect(try difference(plain, plainBack, on: csv) < 1e-5)
    // The others subtracted from 2 instead of 1: refused by name.
    var wrong = try Onnx_ModelProto(serializedBytes: grouped.onnxModel())
    let one = try #require(wrong.graph.initializer.firstIndex { $0.name == others.input[0] })
    wrong.graph.initializer[one].floatData = [2]
    #expect {
      try TabularModel.importWeights(onnxBytes: wrong.serializedBytes(), path: "others.onnx", activations: nil)
    } throws: {
      "\($0)".contains("a text column's input for its other categories is read only as BLASNet exports it")
    }
  }

  /// A model with a piecewise-linear encoding exports the standardisation
  /// as nodes (never folded), then the encoding: the standardised columns
  /// repeated by one Gather, a Sub and a Div per ramp, clamped by Max and
  /// Min; the first layer takes all of them. The importer reads it back as
  /// the standardisation and the encoding, and refuses a damaged one.
  @Test func piecewiseLinearEncodingsExportAndComeBack() throws {
    let (_, csv) = try trained(label: "sick")
    defer { try? FileManager.default.removeItem(atPath: csv) }
    var options = TabularModel.FitOptions()
    options.label = "sick"
    options.ignoredColumns = ["kind", "level"]
    options.epochs = 5
    options.piecewiseLinearBins = 4
    let model = try TabularModel.fit(.csvFile(csv), options: options).model
    let encoding = try #require(model.piecewiseLinear)
    let graph = try Onnx_ModelProto(serializedBytes: model.onnxModel()).graph
    let ops = graph.node.map(\.opType)
    // (The quantile maps' nodes come first, with Gathers of their own.)
    let gather = try #require(
      graph.node.first { node in
        node.opType == "Gather" && graph.node.contains { $0.opType == "Div" && $0.output.first == node.input.first }
      })
    let div = try #require(graph.node.first { $0.opType == "Div" && $0.output.first == gather.input.first })
    #expect(graph.node.contains { $0.opType == "Sub" && $0.output.first == div.input.first })
    #expect(ops.contains("Max") && ops.contains("Min"))
    let pieces = try #require(graph.initializer.first { $0.name == gather.input.last })
    // Each of the 4 columns once for its value, then once per ramp.
    #expect(pieces.int64Data.count == encoding.outputCount)
    #expect(
      pieces.int64Data.prefix(encoding.edges[0]!.count) == [Int64](repeating: 0, count: encoding.edges[0]!.count)[...])
    let w1 = try #require(graph.initializer.first { $0.name.hasPrefix("W1") })
    #expect(w1.dims == [Int64(model.network.layers[0].units), Int64(encoding.outputCount)])
    // Read back: the standardisation before the bins, the edges to Float precision, the same outputs.
    let back = try TabularModel.importWeights(onnxBytes: model.onnxModel(), path: "bins.onnx", activations: nil).model
    let edges = try #require(back.piecewiseLinear).edges
    #expect(edges.count == encoding.edges.count && back.network.sizes == model.network.sizes)
    for (e, f) in zip(edges, encoding.edges) {
      #expect(e?.count == f?.count)
      for (x, y) in zip(e ?? [], f ?? []) { #expect(abs(x - y) <= 1e-6 * max(abs(y), 1), "\(e!) against \(f!)") }
    }
    #expect(try difference(model, back, on: csv) < 1e-5)
    // A damaged ramp (its bin before the one before it) is refused, naming the Gather.
    var damaged = try Onnx_ModelProto(serializedBytes: model.onnxModel())
    let low = try #require(damaged.graph.initializer.firstIndex { $0.name.hasPrefix("bin_low") })
    var values = damaged.graph.initializer[low].floatData
    if values.isEmpty {
      values = damaged.graph.initializer[low].rawData.withUnsafeBytes { Array($0.bindMemory(to: Float.self)) }
    }
    values[2] = values[1] - 1
    damaged.graph.initializer[low].floatData = values
    damaged.graph.initializer[low].rawData = Data()
    #expect {
      try TabularModel.importWeights(onnxBytes: damaged.serializedBytes(), path: "bins.onnx", activations: nil)
    } throws: {
      "\($0)".contains("(Gather): output 2, a ramp of numeric column 0: its bin must follow the one before")
    }
  }

  /// An isotonic calibration has no export; a graph with two numeric inputs no import.
  @Test func whatHasNoONNXFormIsATypedError() throws {
    let (isotonic, csv) = try trained(label: "sick", calibration: .isotonic)
    defer { try? FileManager.default.removeItem(atPath: csv) }
    #expect(throws: ONNXExportError.self) { try isotonic.onnxModel() }
    var model = try Onnx_ModelProto(
      serializedBytes: try Array(Data(contentsOf: fixtures.appendingPathComponent("torch-sequential.onnx"))))
    model.graph.input.append(model.graph.input[0])
    model.graph.input[1].name = "second"
    #expect {
      try TabularModel.importWeights(onnxBytes: model.serializedBytes(), path: "two.onnx", activations: nil)
    } throws: { "\($0)".contains("the graph has 2 inputs (input, second)") }
  }

  /// Hostile ONNX files: each a typed error naming what is wrong.
  @Test func hostileGraphsAreTypedErrors() throws {
    // fc1.weight and fc1.bias are float64 (raw bytes), fc2.weight float32, fc2.bias a Constant node.
    let good = try Array(Data(contentsOf: fixtures.appendingPathComponent("torch-sequential-f64.onnx")))
    let model = try Onnx_ModelProto(serializedBytes: good)
    func bytes(_ change: (inout Onnx_ModelProto) -> Void) throws -> [UInt8] {
      var m = model
      change(&m)
      return try m.serializedBytes()
    }
    let cases: [(String, [UInt8], String)] = [
      ("garbage", Array("not a model at all".utf8), "not an ONNX model"),
      ("cut", Array(good.prefix(good.count / 2)), "not an ONNX model"),
      ("no graph", try bytes { $0.clearGraph() }, "it has no graph"),
      (
        "an op outside", try bytes { $0.graph.node[2].opType = "Elu" },
        "node \"/1/LeakyRelu\" (Elu): outside the importer's subset"
      ),
      (
        "leaky slope", try bytes { $0.graph.node[2].attribute[0].f = 0.2 },
        "LeakyRelu with alpha 0.2"
      ),
      (
        "shape ≠ values", try bytes { $0.graph.initializer[2].dims = [3, 5] },
        "tensor \"fc2.weight\" is [3, 5] of float but holds 72 bytes"
      ),
      (
        "shapes that do not chain",
        try bytes {
          $0.graph.initializer[2].dims = [2, 9]
          $0.graph.initializer[2].floatData = [Float](repeating: 0.5, count: 18)
        },
        "tensor \"fc2.weight\" has shape [2, 9]; expected [2, 6]: its inputs are the 6 outputs"
      ),
      (
        "bytes ≠ shape", try bytes { $0.graph.initializer[0].rawData = Data(repeating: 0, count: 7) },
        "tensor \"fc1.weight\" is [6, 5] of double but holds 7 bytes"
      ),
      (
        "NaN",
        try bytes {
          var raw = $0.graph.initializer[1].rawData
          withUnsafeBytes(of: Double.nan.bitPattern.littleEndian) { raw.replaceSubrange(16..<24, with: $0) }
          $0.graph.initializer[1].rawData = raw
        },
        "tensor \"fc1.bias\" has a value that is not finite (element 2)"
      ),
      (
        "int weights", try bytes { $0.graph.initializer[2].dataType = 7 },
        "tensor \"fc2.weight\" holds ONNX data type 7"
      ),
      (
        "a branch", try bytes { $0.graph.node[3].input[0] = "input" },
        "node \"/0/Gemm\" (Gemm): tensor \"input\" feeds 2 nodes (Gemm, Gemm); the importer reads a chain of layers"
      ),
    ]
    for (what, data, message) in cases {
      #expect(throws: ImportError.self, "\(what)") {
        try TabularModel.importWeights(onnxBytes: data, path: "hostile.onnx", activations: nil)
      }
      do {
        _ = try TabularModel.importWeights(onnxBytes: data, path: "hostile.onnx", activations: nil)
      } catch {
        #expect("\(error)".contains(message), "\(what): \(error)")
      }
    }
  }
}

@Suite struct ONNXActivationChoiceTests {
  /// A graph that ends in logits (no activation) takes a sigmoid from the
  /// caller; any other disagreement with the graph is refused.
  @Test func onlyLogitsTakeAnotherOutputActivation() throws {
    let path = fixtures.appendingPathComponent("sklearn-regressor.onnx").path
    let logits = try TabularModel.importWeights(onnx: path, activations: [.relu, .sigmoid])
    #expect(!logits.model.isRegression && logits.model.network.outputActivation == .sigmoid)
    let linear = try TabularModel.importWeights(onnx: path)
    let x = try Matrix<Float>(rows: 5, columns: 1, columnMajor: [0.3, -1, 0.5, 2, -0.2])
    let z = linear.model.network.predict(x)[0, 0]
    #expect(abs(logits.model.network.predict(x)[0, 0] - 1 / (1 + exp(-z))) < 1e-6)
    #expect {
      try TabularModel.importWeights(onnx: path, activations: [.tanh, .identity])
    } throws: { "\($0)".contains("the graph's activations are relu,identity; --activations says tanh,identity") }
  }
}
