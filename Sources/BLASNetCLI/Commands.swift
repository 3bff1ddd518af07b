import ArgumentParser
import Foundation
import LinearAlgebra
import NeuralNetwork

/// `blasnet`: train, evaluate and predict with dense networks on CSV files.
public struct BLASNetCommand: ParsableCommand {
  public static let configuration = CommandConfiguration(
    commandName: "blasnet",
    abstract: "Train, evaluate and run dense neural networks on CSV data, on OpenBLAS.",
    discussion: """
      With no --data, `blasnet train` uses the built-in Wisconsin breast-cancer data set
      (569 examples, 30 features, label "malignant").
      """,
    subcommands: [Train.self, Evaluate.self, Predict.self])

  public init() {}

  /// Parses `arguments` and runs the command; a ``CLIError`` becomes one line on
  /// stderr and exit status 1, an argument error ArgumentParser's usual message.
  public static func run(arguments: [String]? = nil) -> Never {
    do {
      var command = try parseAsRoot(arguments)
      try command.run()
      Foundation.exit(0)
    } catch let error as CLIError {
      FileHandle.standardError.write(Data("blasnet: error: \(error)\n".utf8))
      Foundation.exit(1)
    } catch {
      exit(withError: error)
    }
  }
}

/// Options shared by the commands that read a model.
struct ModelOptions: ParsableArguments {
  @Option(help: "The model file written by `blasnet train --save`.")
  var model: String

  @Option(help: "The CSV file: a header row, then one example per row.")
  var data: String

  @Option(help: "OpenBLAS threads (default: OpenBLAS's own choice).")
  var threads: Int?

  func load() throws(CLIError) -> SavedModel {
    try setThreads(threads)
    do {
      return try SavedModel.load(from: model)
    } catch {
      throw CLIError("\(error)")
    }
  }
}

func setThreads(_ threads: Int?) throws(CLIError) {
  guard let threads else { return }
  if threads < 1 { throw CLIError("--threads must be at least 1, got \(threads)") }
  OpenBLAS.threadCount = threads
}

extension BLASNetCommand {
  struct Train: ParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Train a classifier on a CSV file (or the built-in breast-cancer data) and report its metrics.")

    @Option(help: "The CSV file (default: the built-in breast-cancer data set).")
    var data: String?
    @Option(help: "The label column's name (default: the last column).")
    var label: String?
    @Option(help: "Hidden layer sizes, comma-separated.")
    var layers: String = "16,8"
    @Option(help: "Hidden activation: relu, leaky-relu, tanh, sigmoid.")
    var activation: String = "relu"
    @Option(help: "Passes over the training data.")
    var epochs: Int = 300
    @Option(name: .customLong("learning-rate"), help: "Step size α.")
    var learningRate: Double = 0.001
    @Option(help: "gd, momentum or adam.")
    var optimizer: String = "adam"
    @Option(name: .customLong("batch-size"), help: "Examples per mini-batch (0: the whole training set).")
    var batchSize: Int = 64
    @Option(help: "L2 regularisation λ.")
    var l2: Double = 0
    @Option(name: .customLong("keep-prob"), help: "Dropout keep probability on hidden layers (1: no dropout).")
    var keepProb: Double = 1
    @Option(help: "Seed for the weights, the split, shuffling and dropout.")
    var seed: UInt64 = 42
    @Option(name: .customLong("test-fraction"), help: "Share of the examples held out for testing, in (0, 1).")
    var testFraction: Double = 0.2
    @Option(help: "OpenBLAS threads (default: OpenBLAS's own choice).")
    var threads: Int?
    @Option(help: "Where to save the model (written atomically).")
    var save: String = "blasnet-model.json"
    @Option(help: "Where to draw the cost curve (SVG).")
    var plot: String = "blasnet-cost.svg"
    @Flag(help: "No progress output.")
    var quiet = false

    func run() throws {
      try setThreads(threads)
      let settings = try validatedSettings()
      let path = try data ?? Self.builtInDataPath()
      let all = try Dataset.forTraining(path: path, label: label)
      let classes = try Self.classes(of: all)
      let classIndex = all.labels!.map { classes.firstIndex(of: $0)! }
      let split = DataSplit.trainTestIndices(
        count: all.count, testFraction: testFraction, seed: seed, stratifyBy: classIndex)
      if split.train.isEmpty || split.test.isEmpty {
        throw CLIError(
          "\(path): \(all.count) examples are too few to hold out \(Int(testFraction * 100)) % for testing")
      }
      let train = all.subset(split.train)
      let test = all.subset(split.test)
      let scaler = Standardizer(fitting: train.x)
      let binary = classes.count == 2
      let sizes = [all.featureNames.count] + settings.hidden + [binary ? 1 : classes.count]
      var network = Network<Float>(
        sizes: sizes, hiddenActivation: settings.activation, outputActivation: binary ? .sigmoid : .softmax, seed: seed)
      let dataName = data == nil ? "built-in breast-cancer data (wdbc.csv)" : path
      print(
        "Data:    \(dataName): \(all.count) examples, \(all.featureNames.count) features, label \"\(all.labelName!)\"")
      print("Split:   \(train.count) train / \(test.count) test (stratified, seed \(seed))")
      print("Network: \(network)  (\(network.parameterCount) parameters)")
      let xTrain = scaler.transform(train.x)
      let yTrain = Self.targets(train, classes: classes)
      let options = TrainingOptions(
        epochs: epochs, optimizer: settings.optimizer, batchSize: batchSize == 0 ? nil : batchSize, l2: l2,
        keepProbability: keepProb, seed: seed, recordCostEvery: max(1, epochs / 100))
      var progress = ProgressReporter(epochs: epochs, quiet: quiet)
      let started = ContinuousClock.now
      let history: TrainingHistory
      do {
        history = try network.train(x: xTrain, y: yTrain, options: options) { progress.report($0) }
      } catch {
        throw CLIError("\(error)")
      }
      progress.finish()
      let elapsed = ContinuousClock.now - started
      print(
        "Trained: \(history.epochsRun) epochs in \(formatDuration(elapsed)), final cost \(format(history.finalCost ?? .nan, 4))"
      )
      print()
      let model = SavedModel(
        network: network, standardizer: scaler, featureNames: all.featureNames, labelName: all.labelName,
        classLabels: classes)
      let report = Report(model: model)
      print(report.table([("train", train), ("test", test)]))
      do {
        try model.save(to: save)
      } catch {
        throw CLIError("\(error)")
      }
      print("Saved the model to \(save)")
      try writeAtomically(CostPlot.svg(history: history, title: "Training cost — \(network)"), to: plot)
      print("Drew the cost curve in \(plot)")
    }

    struct Settings {
      var hidden: [Int]
      var activation: Activation
      var optimizer: Optimizer
    }

    func validatedSettings() throws(CLIError) -> Settings {
      guard testFraction > 0 && testFraction < 1 else {
        throw CLIError("--test-fraction must be between 0 and 1 (exclusive), got \(testFraction)")
      }
      let parts = layers.split(separator: ",", omittingEmptySubsequences: false).map {
        $0.trimmingCharacters(in: .whitespaces)
      }
      if layers.trimmingCharacters(in: .whitespaces).isEmpty {
        throw CLIError("--layers is empty: give hidden layer sizes such as 16,8")
      }
      var hidden: [Int] = []
      for (k, p) in parts.enumerated() {
        guard let n = Int(p), n >= 1 else {
          throw CLIError(
            "--layers: size \(k + 1) is \"\(p)\"; every hidden layer needs a whole number of units ≥ 1 (e.g. 16,8)")
        }
        hidden.append(n)
      }
      guard let act = Activation(name: activation), act != .softmax else {
        throw CLIError("--activation must be relu, leaky-relu, tanh, sigmoid or linear, got \"\(activation)\"")
      }
      guard epochs >= 1 else { throw CLIError("--epochs must be at least 1, got \(epochs)") }
      guard learningRate > 0 && learningRate.isFinite else {
        throw CLIError("--learning-rate must be a positive number, got \(learningRate)")
      }
      guard batchSize >= 0 else { throw CLIError("--batch-size must be ≥ 1 (or 0 for full batch), got \(batchSize)") }
      guard l2 >= 0 && l2.isFinite else { throw CLIError("--l2 must be ≥ 0, got \(l2)") }
      guard keepProb > 0 && keepProb <= 1 else { throw CLIError("--keep-prob must be in (0, 1], got \(keepProb)") }
      let opt: Optimizer
      switch optimizer.lowercased() {
      case "gd", "sgd", "gradient-descent": opt = .gradientDescent(learningRate: learningRate)
      case "momentum": opt = .momentum(learningRate: learningRate)
      case "adam": opt = .adam(learningRate: learningRate)
      default: throw CLIError("--optimizer must be gd, momentum or adam, got \"\(optimizer)\"")
      }
      return Settings(hidden: hidden, activation: act, optimizer: opt)
    }

    static func builtInDataPath() throws(CLIError) -> String {
      guard let url = Bundle.module.url(forResource: "wdbc", withExtension: "csv") else {
        throw CLIError("the built-in data set wdbc.csv is missing from this build; pass --data FILE.csv")
      }
      return url.path
    }

    /// The sorted distinct label values; 2 for a binary network, up to 100 for softmax.
    static func classes(of data: Dataset) throws(CLIError) -> [Double] {
      let classes = Array(Set(data.labels!)).sorted()
      let name = data.labelName!
      if classes.count < 2 {
        throw CLIError(
          "\(data.file): the label column \"\(name)\" has a single class (\(formatLabel(classes[0]))); a classifier needs at least two"
        )
      }
      if classes.count > 100 {
        throw CLIError(
          "\(data.file): the label column \"\(name)\" has \(classes.count) distinct values; blasnet trains classifiers with 2 to 100 classes"
        )
      }
      return classes
    }

    /// 1 × m 0/1 targets for two classes, one-hot K × m for more.
    static func targets(_ data: Dataset, classes: [Double]) -> Matrix<Float> {
      let index = data.labels!.map { classes.firstIndex(of: $0)! }
      if classes.count == 2 { return Matrix(row: index.map(Float.init)) }
      return DataSplit.oneHot(index, classCount: classes.count)
    }
  }

  struct Evaluate: ParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Print a trained model's metrics on a labelled CSV file.")

    @OptionGroup var options: ModelOptions

    func run() throws {
      let model = try options.load()
      let data = try Dataset.forModel(path: options.data, model: model, requireLabel: true)
      let report = Report(model: model)
      try report.checkLabels(data)
      print("Model: \(model.network) from \(options.model)")
      print(report.table([(URL(fileURLWithPath: options.data).lastPathComponent, data)]))
    }
  }

  struct Predict: ParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Write one prediction (class and probability) per row of a CSV file.")

    @OptionGroup var options: ModelOptions

    @Option(help: "Where to write the predictions as CSV (default: standard output).")
    var output: String?

    func run() throws {
      let model = try options.load()
      let data = try Dataset.forModel(path: options.data, model: model, requireLabel: false)
      let x = model.standardizer.map { $0.transform(data.x) } ?? data.x
      let p = model.network.predict(x)
      let classes = model.classLabels ?? (0..<max(2, p.rows)).map(Double.init)
      var csv = ""
      if p.rows == 1 {
        csv += "probability,class\n"
        for j in 0..<p.columns {
          csv += "\(p[0, j]),\(formatLabel(p[0, j] >= 0.5 ? classes[1] : classes[0]))\n"
        }
      } else {
        csv += "class,probability," + classes.map { "p_\(formatLabel($0))" }.joined(separator: ",") + "\n"
        let best = p.argmaxOfEachColumn()
        for j in 0..<p.columns {
          csv += "\(formatLabel(classes[best[j]])),\(p[best[j], j]),"
          csv += (0..<p.rows).map { "\(p[$0, j])" }.joined(separator: ",") + "\n"
        }
      }
      if let output {
        try writeAtomically(csv, to: output)
        FileHandle.standardError.write(Data("blasnet: wrote \(p.columns) predictions to \(output)\n".utf8))
      } else {
        print(csv, terminator: "")
      }
    }
  }
}

/// Writes text so that `path` holds either its old contents or all of the new.
func writeAtomically(_ text: String, to path: String) throws(CLIError) {
  do {
    try AtomicFile.write(Data(text.utf8), to: path)
  } catch {
    throw CLIError("\(path): cannot write the file: \(error.reason)")
  }
}

/// `1` for 1.0, `2.5` for 2.5.
func formatLabel(_ v: Double) -> String {
  v == v.rounded() && abs(v) < 1e15 ? String(Int(v)) : String(v)
}

func format(_ v: Double, _ digits: Int) -> String { String(format: "%.\(digits)f", v) }

func formatDuration(_ d: Duration) -> String {
  let s = Double(d.components.seconds) + Double(d.components.attoseconds) * 1e-18
  return s < 1 ? "\(Int((s * 1000).rounded())) ms" : format(s, 2) + " s"
}
