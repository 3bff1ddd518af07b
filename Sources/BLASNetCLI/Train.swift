import ArgumentParser
import Foundation
import LinearAlgebra
import NeuralNetwork

/// `--layers 16,8`: hidden layer sizes, each a whole number ≥ 1.
struct HiddenLayers: Equatable {
  var sizes: [Int]

  static func parse(_ text: String) throws -> HiddenLayers {
    if text.trimmingCharacters(in: .whitespaces).isEmpty {
      throw ValidationError("--layers is empty: give hidden layer sizes such as 16,8")
    }
    let parts = text.split(separator: ",", omittingEmptySubsequences: false)
    var sizes: [Int] = []
    for (k, part) in parts.enumerated() {
      let p = part.trimmingCharacters(in: .whitespaces)
      guard let n = Int(p), n >= 1 else {
        throw ValidationError(
          "--layers: size \(k + 1) is \"\(p)\"; every hidden layer needs a whole number of units ≥ 1 (e.g. 16,8)")
      }
      sizes.append(n)
    }
    return HiddenLayers(sizes: sizes)
  }
}

/// `--activation`: any activation but softmax, which only an output layer can have.
struct HiddenActivation: ExpressibleByArgument {
  var activation: Activation

  init(_ activation: Activation) { self.activation = activation }

  init?(argument: String) {
    guard let a = Activation(name: argument), a != .softmax else { return nil }
    activation = a
  }

  static var allValueStrings: [String] { ["relu", "leaky-relu", "tanh", "sigmoid", "linear"] }
  var defaultValueDescription: String { activation.rawValue }
}

/// `--optimizer`.
enum OptimizerChoice: String, CaseIterable, ExpressibleByArgument {
  case gd, momentum, adam, rmsprop, adamw

  init?(argument: String) {
    switch argument.lowercased() {
    case "gd", "sgd", "gradient-descent": self = .gd
    case "rms-prop": self = .rmsprop
    case "adam-w": self = .adamw
    default:
      guard let v = OptimizerChoice(rawValue: argument.lowercased()) else { return nil }
      self = v
    }
  }

  func optimizer(learningRate: Double, weightDecay: Double) -> Optimizer {
    switch self {
    case .gd: return .gradientDescent(learningRate: learningRate)
    case .momentum: return .momentum(learningRate: learningRate)
    case .adam: return .adam(learningRate: learningRate)
    case .rmsprop: return .rmsProp(learningRate: learningRate)
    case .adamw: return .adamW(learningRate: learningRate, weightDecay: weightDecay)
    }
  }
}

extension BLASNetCommand {
  struct Train: ParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Train a classifier on a CSV file (or the built-in breast-cancer data) and report its metrics.")

    @Option(help: "The CSV file (default: the built-in breast-cancer data set).")
    var data: String?
    @Option(help: "The label column's name (default: the last column).")
    var label: String?
    @Option(
      help: ArgumentHelp("Hidden layer sizes, comma-separated.", valueName: "sizes"), transform: HiddenLayers.parse)
    var layers = HiddenLayers(sizes: [16, 8])
    @Option(help: "Hidden activation: relu, leaky-relu, tanh, sigmoid or linear.")
    var activation = HiddenActivation(.relu)
    @Option(help: "Passes over the training data.")
    var epochs: Int = 300
    @Option(name: .customLong("learning-rate"), help: "Step size α.")
    var learningRate: Double = 0.001
    @Option(help: "gd, momentum, adam, rmsprop or adamw.")
    var optimizer: OptimizerChoice = .adam
    @Option(name: .customLong("weight-decay"), help: "AdamW's decoupled weight decay λ.")
    var weightDecay: Double = 0.01
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

    func validate() throws {
      guard testFraction > 0 && testFraction < 1 else {
        throw ValidationError("--test-fraction must be between 0 and 1 (exclusive), got \(testFraction)")
      }
      guard epochs >= 1 else { throw ValidationError("--epochs must be at least 1, got \(epochs)") }
      guard learningRate > 0 && learningRate.isFinite else {
        throw ValidationError("--learning-rate must be a positive number, got \(learningRate)")
      }
      guard batchSize >= 0 else {
        throw ValidationError("--batch-size must be ≥ 1 (or 0 for full batch), got \(batchSize)")
      }
      guard l2 >= 0 && l2.isFinite else { throw ValidationError("--l2 must be ≥ 0, got \(l2)") }
      guard weightDecay >= 0 && weightDecay.isFinite else {
        throw ValidationError("--weight-decay must be ≥ 0, got \(weightDecay)")
      }
      guard keepProb > 0 && keepProb <= 1 else {
        throw ValidationError("--keep-prob must be in (0, 1], got \(keepProb)")
      }
      try validateThreads(threads)
    }

    func run() throws {
      applyThreads(threads)
      let path = try data ?? Self.builtInDataPath()
      let all = try Dataset.forTraining(path: path, label: label)
      let classes = try ClassLabels(training: all)
      let split = DataSplit.trainTestIndices(
        count: all.count, testFraction: testFraction, seed: seed, stratifyBy: classes.indices(all.labels!))
      if split.train.isEmpty || split.test.isEmpty {
        throw CLIError(
          "\(path): \(all.count) examples are too few to hold out \(Int(testFraction * 100)) % for testing")
      }
      let train = all.subset(split.train)
      let test = all.subset(split.test)
      let scaler = Standardizer(fitting: train.x)
      let binary = classes.count == 2
      let sizes = [all.featureNames.count] + layers.sizes + [binary ? 1 : classes.count]
      var network = Network<Float>(
        sizes: sizes, hiddenActivation: activation.activation, outputActivation: binary ? .sigmoid : .softmax,
        seed: seed)
      let dataName = data == nil ? "built-in breast-cancer data (wdbc.csv)" : path
      print(
        "Data:    \(dataName): \(all.count) examples, \(all.featureNames.count) features, label \"\(all.labelName!)\"")
      print("Split:   \(train.count) train / \(test.count) test (stratified, seed \(seed))")
      print("Network: \(network)  (\(network.parameterCount) parameters)")
      let options = TrainingOptions(
        epochs: epochs, optimizer: optimizer.optimizer(learningRate: learningRate, weightDecay: weightDecay),
        batchSize: batchSize == 0 ? nil : batchSize, l2: l2, keepProbability: keepProb, seed: seed,
        recordCostEvery: max(1, epochs / 100))
      var progress = ProgressReporter(epochs: epochs, quiet: quiet)
      let started = ContinuousClock.now
      let history: TrainingHistory
      do {
        history = try network.train(
          x: scaler.transform(train.x), y: classes.targets(train.labels!), options: options
        ) { progress.report($0) }
      } catch .diverged(let epoch, let batch, let cost, let initialCost) {
        progress.finish()
        let place = batch.map { "batch \($0) of epoch \(epoch)" } ?? "epoch \(epoch)"
        throw CLIError(
          "training diverged at \(place) (cost \(format(cost, 4)), first \(format(initialCost, 4))): lower --learning-rate (now \(learningRate)) or --l2 (now \(l2)); nothing was saved"
        )
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
        classLabels: classes.values)
      print(Report(model: model).table([("train", train), ("test", test)]))
      do {
        try model.save(to: save)
      } catch {
        throw CLIError("\(error)")
      }
      print("Saved the model to \(save)")
      try writeAtomically(CostPlot.svg(history: history, title: "Training cost — \(network)"), to: plot)
      print("Drew the cost curve in \(plot)")
    }

    static func builtInDataPath() throws(CLIError) -> String {
      guard let url = Bundle.module.url(forResource: "wdbc", withExtension: "csv") else {
        throw CLIError("the built-in data set wdbc.csv is missing from this build; pass --data FILE.csv")
      }
      return url.path
    }
  }
}
