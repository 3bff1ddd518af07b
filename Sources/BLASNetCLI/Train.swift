import ArgumentParser
import Foundation
import LinearAlgebra
import NeuralNetwork
import Tabular

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

/// `--cache-limit 2G`: a size in bytes, with an optional K, M, G or T
/// (powers of 1024; "KB", "KiB" and the like mean the same).
enum ByteSize {
  static func parse(_ text: String) throws -> Int {
    var number = text.trimmingCharacters(in: .whitespaces).uppercased()
    for suffix in ["IB", "B"] where number.hasSuffix(suffix) { number.removeLast(suffix.count) }
    var scale = 1.0
    if let unit = number.last, let power = "KMGT".firstIndex(of: unit) {
      scale = pow(1024, Double("KMGT".distance(from: "KMGT".startIndex, to: power) + 1))
      number.removeLast()
    }
    guard let value = Double(number.trimmingCharacters(in: .whitespaces)), value.isFinite, value > 0,
      value * scale < 0x1p62
    else {
      throw ValidationError("--cache-limit is \"\(text)\"; give a size such as 500M, 2G or 1000000 (bytes)")
    }
    return Int(value * scale)
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

/// `--missing`.
enum MissingValueChoice: String, CaseIterable, ExpressibleByArgument {
  case error, mean, median, zero

  var strategy: MissingValueStrategy { MissingValueStrategy(rawValue: rawValue)! }
}

/// The options of a training run, shared by `train` and `cv`: the data,
/// the network, its training and the decision threshold.
struct TrainingArguments: ParsableArguments {
  @Option(help: "The CSV file (default: the built-in breast-cancer data set).")
  var data: String?
  @Option(
    help: ArgumentHelp(
      "Inputs saved by NumPy (np.save): a 2-D .npy array, n_x × m (examples as columns) unless --examples-as-rows; with --y instead of --data.",
      valueName: "X.npy"))
  var x: String?
  @Option(
    help: ArgumentHelp("The class of each example of --x, a .npy vector of m values.", valueName: "Y.npy"))
  var y: String?
  @Flag(
    name: .customLong("examples-as-rows"), help: "--x holds one example per row (m × n_x, scikit-learn's layout).")
  var examplesAsRows = false
  @Flag(
    help:
      "Read --data in a stream and train from a cache of the encoded rows (the default for files of \(TabularModel.streamingThreshold >> 20) MiB or more)."
  )
  var stream = false
  @Option(
    help: ArgumentHelp(
      "The folder of the data cache of a streamed --data (default: FILE.blasnet-cache next to it); implies --stream.",
      valueName: "folder"))
  var cache: String?
  @Option(
    name: .customLong("cache-limit"),
    help: ArgumentHelp(
      "The most the data cache folder of a streamed --data may hold (e.g. 2G): older entries of other files or options are removed to stay within it; a file whose own entries need more is refused before they are written.",
      valueName: "size"), transform: ByteSize.parse)
  var cacheLimit: Int?
  @Option(help: "The label column's name (default: the last column).")
  var label: String?
  @Option(
    help: ArgumentHelp(
      "classification (the label's values are classes) or regression (the label is a number: linear output, MAE, RMSE and R²).",
      valueName: "task"))
  var task: TabularModel.Task = .classification
  @Option(
    help: ArgumentHelp(
      "A regression's cost on the standardised label: mse, or huber (squared within one standard deviation, absolute beyond).",
      valueName: "loss"))
  var loss: TabularModel.RegressionLoss = .squaredError
  @Option(
    help: ArgumentHelp(
      "Hidden layer sizes, comma-separated (default: 100, one layer of 100 units).", valueName: "sizes"),
    transform: HiddenLayers.parse)
  var layers = HiddenLayers(sizes: [100])
  @Option(help: "Hidden activation: relu, leaky-relu, tanh, sigmoid or linear.")
  var activation = HiddenActivation(.relu)
  @Option(
    help:
      "The most passes over the training split (default: from its size: up to 1,000 epochs or 100,000 optimiser steps, whichever is fewer, at least 10)."
  )
  var epochs: Int?
  @Option(name: .customLong("learning-rate"), help: "Step size α.")
  var learningRate: Double = 0.001
  @Option(help: "gd, momentum, adam, rmsprop or adamw.")
  var optimizer: OptimizerChoice = .adam
  @Option(name: .customLong("weight-decay"), help: "AdamW's decoupled weight decay λ.")
  var weightDecay: Double = 0.01
  @Option(
    name: .customLong("batch-size"),
    help:
      "Examples per mini-batch; 0: the whole training split (default: from its size: 32, up to 1,024 for splits over a million rows)."
  )
  var batchSize: Int?
  @Option(help: "L2 regularisation λ (default: 0.3 for classes, 3 for --task regression).")
  var l2: Double?
  @Option(
    name: .customLong("keep-prob"),
    help:
      "Dropout keep probability on hidden layers (1: no dropout; default: \(TabularModel.FitOptions.classificationKeepProbability) for classes, 1 for --task regression)."
  )
  var keepProb: Double?
  @Option(
    help:
      "Resamples of the 95 % bootstrap intervals of the validation and test metrics (seeded by --seed; fewer for splits over 200,000 rows, at least 100); 0: none."
  )
  var bootstrap = 1000
  @Option(help: "Seed for the weights, the split, shuffling and dropout.")
  var seed: UInt64 = 42
  @Option(
    name: .customLong("test-fraction"),
    help:
      "Share of the examples held out for testing, in [0, 1); 0: none (every row trains or validates, no test metrics)."
  )
  var testFraction: Double = 0.2
  @Option(
    name: .customLong("test-data"),
    help: ArgumentHelp(
      "A CSV file of test rows (with the label): the training file keeps every row for training and validation, and the test column is this file's.",
      valueName: "file"))
  var testData: String?
  @Option(
    name: .customLong("validation-fraction"),
    help: "Share of the training split held out (stratified) to watch the validation cost each epoch; 0: none.")
  var validationFraction: Double = 0.2
  @Option(
    help:
      "Stop after this many epochs without improvement of the validation cost and keep the best epoch's weights; 0: never stop early (default: on whenever there is a validation split, 50 epochs or 500 optimiser steps, whichever is fewer, at least 15, with --min-delta 0.001)."
  )
  var patience: Int?
  @Option(
    name: .customLong("min-delta"),
    help: "The least decrease of the validation cost that counts as an improvement (default: 0.001).")
  var minDelta: Double = 0.001
  @Option(
    name: .customLong("class-weight"),
    help: ArgumentHelp(
      "Weights of the classes in the training cost: balanced, none, or CLASS=W,... (e.g. 1=5).", valueName: "weights")
  )
  var classWeight: String = "none"
  @Option(
    help: ArgumentHelp(
      "Columns to leave out (an id, say), comma-separated or repeated; a model file remembers them, so predict skips them too.",
      valueName: "columns"))
  var ignore: [String] = []
  @Option(
    name: .customLong("positive-class"),
    help: "The positive class of a two-class label (default: the larger number, or the second name in sorted order).")
  var positiveClass: String?
  @Option(
    name: .customLong("missing"),
    help:
      "Missing values in feature columns: median (the default), mean or zero (statistics from the training split; a missing text value is a category of its own), or error."
  )
  var missingChoice: MissingValueChoice?
  /// `--missing`, or its default.
  var missing: MissingValueChoice { missingChoice ?? .median }
  @Option(
    name: .customLong("missing-markers"),
    help: ArgumentHelp(
      "Fields read as missing, comma-separated, case-insensitive (an empty field always is).",
      valueName: "markers"))
  var missingMarkers: String = TabularEncoder.defaultMissingMarkers.filter { !$0.isEmpty }.joined(separator: ",")
  @Flag(
    name: .customLong("missing-indicators"), inversion: .prefixedNo,
    help:
      "Give a column with missing values in the training split an input that is 1 where the value was missing: a number's second input (beside the fill), a text column's category of its own. Without: a missing text value is no category."
  )
  var missingIndicators = true
  @Option(
    name: .customLong("max-categories"),
    help:
      "The most categories of a text column one-hot encoded (its most frequent in the training split; the others share one more input, as does a category unseen in training). A text column with more, and a different value in at least every other row, is left out as an identifier."
  )
  var maxCategories: Int = 50
  @Option(
    help:
      "How numeric columns are scaled: quantile (the default: mapped onto the normal scores of their training quantiles, then standardised) or standard (the training mean and standard deviation only)."
  )
  var scaling: TabularModel.Scaling = .quantile
  @Option(
    help:
      "Encode each scaled numeric input piecewise-linearly over this many bins (its training quantiles): the value and one 0-to-1 ramp per bin go to the network. 0: off (the scaled value alone). Default: by the table's size, training rows / (8 × numeric inputs), from 4 to 16."
  )
  var bins: Int?
  @Option(
    name: .customLong("bin-edges"),
    help:
      "Where the bins' edges go: quantiles (the default: as many training rows in each bin) or target (where the label changes: the splits of a small tree on each input alone, fitted on the training rows)."
  )
  var binEdges: TabularModel.BinEdges = .quantiles
  @Option(
    help:
      "Networks to train, each from its own seed, and average (at the same time over the cores, one BLAS thread each): the model's probabilities are their mean."
  )
  var ensemble: Int = TabularModel.FitOptions().ensembleSize
  @Flag(
    inversion: .prefixedNo,
    help:
      "Train the saved network again on the training and validation rows together: on from the early-stopped weights for a fifth of the epochs early stopping kept; a calibration or a target sensitivity or specificity is then fitted on the validation rows as the network before it predicted them."
  )
  var refit = true
  @Flag(
    name: .customLong("refit-from-start"),
    help:
      "Refit from the initial weights for all the epochs early stopping kept, the scaling fitted again on the training and validation rows (five times the refit's epochs)."
  )
  var refitFromStart = false
  @Option(help: "Decision threshold of a two-class model: an output ≥ it predicts the positive class.")
  var threshold: Double?
  @Option(
    name: .customLong("target-sensitivity"),
    help: "Choose the threshold on the validation split: the most specific one with at least this sensitivity.")
  var targetSensitivity: Double?
  @Option(
    name: .customLong("target-specificity"),
    help: "Choose the threshold on the validation split: the most sensitive one with at least this specificity.")
  var targetSpecificity: Double?
  @Option(
    help: ArgumentHelp(
      "Calibrate the probabilities on the validation split (stored in the model): platt or isotonic (two classes), temperature (any).",
      valueName: "method"))
  var calibrate: TabularModel.CalibrationMethod?
  @Option(help: "OpenBLAS threads (default: OpenBLAS's own choice).")
  var threads: Int?

  /// The flags' own checks (values that only the command line spells, such
  /// as 0 for a full batch or for no early stopping), then the library's
  /// ``TabularModel/FitOptions/validate()`` of the options they make, in
  /// the flags' names.
  func validate() throws {
    if let batchSize, batchSize < 0 {
      throw ValidationError("--batch-size must be ≥ 1 (or 0 for full batch), got \(batchSize)")
    }
    guard weightDecay >= 0 && weightDecay.isFinite else {
      throw ValidationError("--weight-decay must be ≥ 0, got \(weightDecay)")
    }
    if let patience, patience < 0 {
      throw ValidationError("--patience must be at least 1 epoch (or 0: never stop early), got \(patience)")
    }
    if task == .classification && loss != .squaredError {
      throw ValidationError(
        "--loss is a regression's cost; a classifier trains on cross-entropy (add --task regression)")
    }
    guard minDelta >= 0 && minDelta.isFinite else {
      throw ValidationError("--min-delta must be ≥ 0, got \(minDelta)")
    }
    let choices = [threshold, targetSensitivity, targetSpecificity].compactMap { $0 }
    guard choices.count <= 1 else {
      throw ValidationError("--threshold, --target-sensitivity and --target-specificity exclude each other: give one")
    }
    if let threshold { try validateThreshold(threshold) }
    for (name, target) in [("--target-sensitivity", targetSensitivity), ("--target-specificity", targetSpecificity)] {
      guard let target else { continue }
      guard target > 0 && target <= 1 else { throw ValidationError("\(name) must be in (0, 1], got \(target)") }
      guard validationFraction > 0 else {
        throw ValidationError(
          "\(name) chooses the threshold on the validation split: it needs --validation-fraction above 0")
      }
    }
    try validateThreads(threads)
    if x != nil || y != nil {
      guard x != nil, y != nil else { throw ValidationError("--x and --y go together: the inputs and their classes") }
      guard data == nil, !stream, cache == nil, cacheLimit == nil else {
        throw ValidationError(
          "--x/--y replace --data: give one or the other (they are already arrays; no cache is made)")
      }
      guard label == nil, ignoredColumns.isEmpty, missingChoice == nil else {
        throw ValidationError("--label, --ignore and --missing are for CSV columns; --x/--y are arrays of numbers")
      }
    } else if examplesAsRows {
      throw ValidationError("--examples-as-rows describes --x; without --x it means nothing")
    }
    do {
      try fitOptions().validate()
    } catch {
      throw ValidationError(error.commandLineMessage)
    }
  }

  /// The fields read as missing: the empty field and `--missing-markers`.
  var markers: [String] {
    [""] + missingMarkers.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
  }

  /// `--ignore a,b --ignore c` → a, b, c.
  var ignoredColumns: [String] {
    ignore.flatMap { $0.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) } }.filter { !$0.isEmpty }
  }

  /// `--class-weight`: none, balanced, or CLASS=W,...
  func classWeights() throws(CLIError) -> TabularModel.ClassWeights {
    switch classWeight.lowercased() {
    case "none": return .none
    case "balanced": return .balanced
    default: break
    }
    var weights: [String: Double] = [:]
    for part in classWeight.split(separator: ",") {
      let pieces = part.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
      guard pieces.count == 2 else {
        throw CLIError("--class-weight: \(quoted(part)) is not CLASS=WEIGHT (e.g. 1=5), balanced or none")
      }
      guard let w = Double(pieces[1]), w >= 0, w.isFinite else {
        throw CLIError(
          "--class-weight: the weight of class \(pieces[0]) must be a number ≥ 0, got \(quoted(pieces[1]))")
      }
      weights[pieces[0]] = w
    }
    return .byClass(weights)
  }

  /// The library's options from the command line.
  func fitOptions() throws(CLIError) -> TabularModel.FitOptions {
    var o = TabularModel.FitOptions()
    o.label = label
    o.task = task
    o.regressionLoss = loss
    o.ignoredColumns = ignoredColumns
    o.positiveClass = positiveClass
    o.missing = missing.strategy
    o.missingMarkers = markers
    o.maxCategories = maxCategories
    o.scaling = scaling
    o.piecewiseLinearBins = bins
    o.binEdges = binEdges
    o.ensembleSize = ensemble
    o.refit = refit
    o.refitStart = refitFromStart ? .initial : .continued
    o.missingIndicators = missingIndicators
    o.testFraction = testFraction
    o.testData = testData
    o.validationFraction = validationFraction
    o.hiddenLayers = layers.sizes
    o.hiddenActivation = activation.activation
    o.epochs = epochs
    o.optimizer = optimizer.optimizer(learningRate: learningRate, weightDecay: weightDecay)
    o.batchSize = batchSize.map { $0 == 0 ? .wholeSplit : .examples($0) } ?? .automatic
    o.l2 = l2
    o.keepProbability = keepProb
    o.seed = seed
    o.earlyStopping =
      patience.map { $0 == 0 ? .off : .on(EarlyStopping(patience: $0, minDelta: minDelta)) } ?? .automatic
    o.classWeights = try classWeights()
    o.bootstrap = bootstrap
    o.calibration = calibrate
    if let threshold {
      o.threshold = .fixed(threshold)
    } else if let targetSensitivity {
      o.threshold = .targetSensitivity(targetSensitivity)
    } else if let targetSpecificity {
      o.threshold = .targetSpecificity(targetSpecificity)
    }
    o.streaming = stream || cache != nil ? .always : .automatic
    o.cacheFolder = cache
    o.cacheLimit = cacheLimit
    return o
  }

}

extension BLASNetCommand {
  struct Train: ParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Train a classifier on a CSV file (or the built-in breast-cancer data) and report its metrics.")

    @OptionGroup var training: TrainingArguments
    @Option(help: "Where to save the model (written atomically; - for standard output).")
    var save: String = "blasnet-model.json"
    @Option(help: "Where to draw the cost curve (SVG; - for standard output).")
    var plot: String = "blasnet-cost.svg"
    @Option(help: "Where to draw the ROC curve of the test split (SVG; - for standard output; default: none).")
    var roc: String?
    @Option(
      help: ArgumentHelp(
        "Where to write a self-contained HTML report (metrics with intervals, learning curves, ROC, reliability, confusion matrix, permutation importance on the test split; default: none).",
        valueName: "file.html"))
    var report: String?
    @Flag(help: "No progress output.")
    var quiet = false

    func validate() throws {
      if training.task == .regression && roc != nil {
        throw ValidationError("--roc draws a classifier's ROC curve; --task regression has none")
      }
      if training.testFraction == 0 && training.testData == nil && roc != nil {
        throw ValidationError(
          "--roc draws the ROC curve of the test rows; --test-fraction 0 holds out none (give --test-data FILE)")
      }
    }

    // The training options, by their names.
    var data: String? { training.data }
    var x: String? { training.x }
    var y: String? { training.y }
    var examplesAsRows: Bool { training.examplesAsRows }
    var stream: Bool { training.stream }
    var cache: String? { training.cache }
    var cacheLimit: Int? { training.cacheLimit }
    var label: String? { training.label }
    var task: TabularModel.Task { training.task }
    var loss: TabularModel.RegressionLoss { training.loss }
    var layers: HiddenLayers { training.layers }
    var activation: HiddenActivation { training.activation }
    var epochs: Int? { training.epochs }
    var learningRate: Double { training.learningRate }
    var optimizer: OptimizerChoice { training.optimizer }
    var weightDecay: Double { training.weightDecay }
    var batchSize: Int? { training.batchSize }
    var l2: Double? { training.l2 }
    var keepProb: Double? { training.keepProb }
    var bootstrap: Int { training.bootstrap }
    var seed: UInt64 { training.seed }
    var testFraction: Double { training.testFraction }
    var testData: String? { training.testData }
    var validationFraction: Double { training.validationFraction }
    var patience: Int? { training.patience }
    var minDelta: Double { training.minDelta }
    var classWeight: String { training.classWeight }
    var ignore: [String] { training.ignore }
    var positiveClass: String? { training.positiveClass }
    var missing: MissingValueChoice { training.missing }
    var missingMarkers: String { training.missingMarkers }
    var maxCategories: Int { training.maxCategories }
    var threshold: Double? { training.threshold }
    var targetSensitivity: Double? { training.targetSensitivity }
    var targetSpecificity: Double? { training.targetSpecificity }
    var calibrate: TabularModel.CalibrationMethod? { training.calibrate }
    var threads: Int? { training.threads }
    var markers: [String] { training.markers }
    var ignoredColumns: [String] { training.ignoredColumns }
    func fitOptions() throws(CLIError) -> TabularModel.FitOptions { try training.fitOptions() }

    func run() throws { try run(group: SingleProcess()) }

    /// Trains on the processes of `group`: one (`blasnet train`), or
    /// several started by mpirun (`blasnet-mpi train`), data-parallel. Every
    /// process reads and encodes the data; process 0 alone prints the report
    /// and writes the files. Every process must call this with the same arguments.
    func run(group: any ProcessGroup) throws(CLIError) {
      applyThreads(threads)
      let reporter = group.rank == 0
      let outputs =
        [("--save", save), ("--plot", plot)] + (roc.map { [("--roc", $0)] } ?? [])
        + (report.map { [("--report", $0)] } ?? [])
      var path = data ?? x ?? ""
      if data == nil && x == nil { path = try Self.builtInDataPath() }
      let source: TableSource = x.map { .npy(x: $0, y: y!, examplesAsRows: examplesAsRows) } ?? .csvFile(path)
      let inputs =
        (x.map { [("--x", $0), ("--y", y!)] } ?? [("--data", path)]) + (testData.map { [("--test-data", $0)] } ?? [])
      // With the model or a plot on standard output, the report goes to standard error.
      let toStandardError = outputs.contains { $0.1 == "-" }
      // The first failure to print a line of the report; printing stops there, and the
      // command fails with it once the files are written.
      var unsaid: CLIError?
      func say(_ text: String = "") {
        if !reporter || unsaid != nil { return }
        if toStandardError {
          StandardError.write(text + "\n")
        } else {
          do {
            try StandardOutput.print(text)
          } catch {
            unsaid = error
          }
        }
      }
      var progress = ProgressReporter(quiet: quiet || !reporter)
      let options = try fitOptions()
      let folders = TabularModel.cacheFolder(for: source, options: options).map { [("--cache", $0)] } ?? []
      var fitted: TabularModel.FitReport
      do {
        fitted = try TabularModel.fit(
          source, options: options, group: group,
          checkBeforeReading: { () throws(CLIError) in
            try OutputPaths.check(outputs: outputs, inputs: inputs, folders: folders)
          },
          prepared: { describe($0, say: say) }, progress: { progress.report($0) })
      } catch {
        progress.finish()
        throw error
      }
      progress.finish()
      guard reporter else { return }
      if threshold != nil { fitted.thresholdNote = "--threshold" }
      let history = fitted.history
      let network = fitted.model.network
      let histories = fitted.histories
      if histories.count > 1 {
        say(
          "Trained: \(histories.count) networks, \(Self.list(histories.map { "\($0.epochsRun)" })) epochs, in \(formatDuration(fitted.trainingTime)); final costs \(Self.list(histories.map { format($0.finalCost ?? .nan, 4) }))"
        )
      } else {
        say(
          "Trained: \(history.epochsRun) epochs in \(formatDuration(fitted.trainingTime)), final cost \(format(history.finalCost ?? .nan, 4))"
        )
      }
      if fitted.allreduceCalls > 0, group.size > 1 {
        let share = fitted.allreduceTime / fitted.trainingTime * 100
        say(
          "Replicas: \(fitted.replicasAgree ? "every process holds the same parameters (compared bit for bit)" : "the processes' parameters differ (compared bit for bit); the model saved is process 0's")"
        )
        say(
          "Allreduce: \(fitted.allreduceCalls) calls of \(network.parameterCount + 1) floats, \(format(seconds(fitted.allreduceTime / fitted.allreduceCalls) * 1e6, 0)) µs each on average on process 0 (\(format(share, 1)) % of the training time, waiting for the others included)"
        )
      }
      let best = histories.compactMap(\.bestEpoch)
      if histories.count > 1, histories.allSatisfy(\.stoppedByEarlyStopping), best.count == histories.count {
        say(
          "Stopped: early at epochs \(Self.list(histories.map { "\($0.epochsRun)" })), each after \(fitted.preparation.plan.earlyStopping?.patience ?? 0) epochs without an improvement of its validation cost; kept the weights of epochs \(Self.list(best.map(String.init))) (validation costs \(Self.list(histories.map { format($0.bestValidationCost ?? .nan, 4) })))"
        )
      } else if history.stoppedByEarlyStopping, let best = history.bestEpoch {
        say(
          "Stopped: early at epoch \(history.epochsRun), after \(fitted.preparation.plan.earlyStopping?.patience ?? 0) epochs without an improvement of the validation cost; kept the weights of epoch \(best) (validation cost \(format(history.bestValidationCost ?? .nan, 4)))"
        )
      } else if history.restoredBestWeights, let best = history.bestEpoch {
        say(
          "Kept:    the weights of epoch \(best), the best validation cost (\(format(history.bestValidationCost ?? .nan, 4)))"
        )
      }
      if let refit = fitted.refit {
        say(
          "Refit:   trained \(training.refitFromStart ? "again from the start" : "on from the kept weights") on the \(refit.rows) training and validation rows for \(refit.epochs) \(training.refitFromStart ? "" : "more ")epoch\(refit.epochs == 1 ? "" : "s")\(histories.count > 1 ? " (the first network's count; each network its own)" : "") in \(formatDuration(refit.time)); the validation column measures the network before it (--no-refit keeps that one)"
        )
      }
      if let note = fitted.calibrationNote { say("Calibrated: \(note)") }
      say()
      let metricsReport = Report(model: fitted.model)
      say(metricsReport.table(fitted.metrics, thresholdNote: fitted.thresholdNote))
      let encoded: Data
      do {
        encoded = try fitted.model.encoded()
      } catch {
        throw CLIError("\(error)")
      }
      try OutputPaths.write(encoded, to: save)
      say(save == "-" ? "Wrote the model to standard output" : "Saved the model to \(save)")
      try OutputPaths.write(Data(CostPlot.svg(history: history, title: "Cost — \(network)").utf8), to: plot)
      say(plot == "-" ? "Wrote the cost curve to standard output" : "Drew the cost curve in \(plot)")
      if let roc {
        let svg = try metricsReport.rocPlot(fitted.test, title: "ROC (test split) — \(network)")
        try OutputPaths.write(Data(svg.utf8), to: roc)
        say(roc == "-" ? "Wrote the ROC curve to standard output" : "Drew the ROC curve in \(roc)")
      }
      if let file = self.report {
        // Importance on the test split (in memory: a streamed table's rows are not).
        let test = fitted.test
        let importance =
          test.mapped == nil && test.count >= 2
          ? try? fitted.model.permutationImportance(test, repeats: 5, seed: training.seed) : nil
        let name = data == nil && x == nil ? "built-in breast-cancer data (wdbc.csv)" : path
        let html = try metricsReport.trainingPage(fitted, source: name, importance: importance)
        try OutputPaths.write(Data(html.utf8), to: file)
        say(file == "-" ? "Wrote the report to standard output" : "Wrote the report to \(file)")
      }
      if let unsaid { throw unsaid }
    }

    /// The lines about the data, the split and the network, printed before training starts.
    func describe(_ p: TabularModel.Preparation, say: (String) -> Void) {
      let encoder = p.encoder
      let dataName =
        data == nil && x == nil ? "built-in breast-cancer data (wdbc.csv)" : x.map { "\($0) and \(y!)" } ?? p.source
      let columnsRead = encoder.columns.count
      let features =
        encoder.width == columnsRead
        ? "\(columnsRead) features" : "\(columnsRead) feature columns → \(encoder.width) inputs"
      say("Data:    \(dataName): \(p.exampleCount) examples, \(features), label \"\(p.labelName)\"")
      if let folder = p.cacheFolder {
        say(
          "Cache:   \(folder) (\(formatDuration(p.readingTime)) to read\(p.processCount > 1 ? " on this process" : "")); training reads the encoded rows from it batch by batch"
        )
        for note in p.cacheNotes { say("         \(note)") }
      }
      let identifiers = p.notes.identifiers
      let ignored = p.ignoredColumns.filter { name in !identifiers.contains { $0.name == name } }
      if !ignored.isEmpty { say("Ignored: \(ignored.joined(separator: ", "))") }
      for id in identifiers {
        say(
          "Left out: \(id.name), an identifier (\(id.distinct) distinct values in \(id.values) training rows): --ignore \(id.name) to say so, or --max-categories \(id.distinct) to encode it"
        )
      }
      let oneHot = encoder.columns.compactMap { c -> String? in
        guard case .oneHot(let categories) = c.encoding else { return nil }
        return
          "\(c.name) (\(categories.count): \(categories.prefix(6).joined(separator: ", "))\(categories.count > 6 ? ", …" : "")\(c.missingIndicator ? "; and missing" : "")\(c.otherCategory ? "; and the others" : ""))"
      }
      if !oneHot.isEmpty { say("Encoded: one-hot \(oneHot.joined(separator: "; "))") }
      for g in p.notes.grouped {
        say(
          "Grouped: \(encoder.columns[g.column].name): the \(g.kept) most frequent of \(g.distinct) categories one-hot; the \(g.rows) training rows of the others, and any category unseen in training, share one more input (--max-categories)"
        )
      }
      if !p.notes.filled.isEmpty { say("Missing: \(Dataset.filledSummary(p.notes, encoder: encoder))") }
      let classes = p.classNames
      if let target = p.target {
        say(
          "Target:  \"\(p.labelName)\", a number: training mean \(format(target.mean, 4)), standard deviation \(format(target.standardDeviation, 4)) (trained standardised; predicted in its units)"
        )
      } else if classes.count == 2 {
        say(
          "Classes: \(classes[0]) (negative), \(classes[1]) (positive\(positiveClass == nil ? "; --positive-class to choose" : ""))"
        )
      } else {
        say(
          "Classes: \(classes.count): \(classes.prefix(12).joined(separator: ", "))\(classes.count > 12 ? ", …" : "")")
      }
      for u in p.notes.unseen {
        let c = encoder.columns[u.column].name
        let rows = u.count == 1 ? "1 row" : "\(u.count) rows"
        say(
          "Unseen:  \(c) = \(quoted(u.firstValue))\(u.count > 1 ? " and others" : "") in \(rows) outside the training split: encoded as no category (all zeros)"
        )
      }
      let held = p.validationCount.map { " / \($0) validation" } ?? ""
      if let file = testData {
        say("Split:   \(p.trainCount) train\(held) (stratified, seed \(seed)) / \(p.testCount) test from \(file)")
      } else if p.testCount > 0 {
        say("Split:   \(p.trainCount) train\(held) / \(p.testCount) test (stratified, seed \(seed))")
      } else {
        say("Split:   \(p.trainCount) train\(held) (stratified, seed \(seed)); no test rows (--test-fraction 0)")
      }
      if let weights = p.classWeights {
        let shown = weights.enumerated().map { "\(classes[$0]) → \(format($1, 3))" }
        say("Weights: \(shown.joined(separator: ", ")) (class weights in the training cost)")
      }
      if p.ensembleSize > 1 {
        say(
          "Network: \(p.network) × \(p.ensembleSize), averaged (\(p.ensembleSize * p.network.parameterCount) parameters; each from its own seed, on the same rows)"
        )
      } else {
        say("Network: \(p.network)  (\(p.network.parameterCount) parameters)")
      }
      if let encoding = p.piecewiseLinear {
        let binned = encoding.edges.compactMap { $0 }
        say(
          "Bins:    \(binned.count) numeric inputs in up to \(binned.map { $0.count - 1 }.max() ?? 0) bins each (piecewise-linear, the value and a ramp per bin): \(encoding.inputCount) inputs → \(encoding.outputCount)"
        )
      }
      say("Training: \(Self.describe(p.plan, trainCount: p.trainCount))")
      if p.ensembleSize > 1 && p.processCount == 1 && BLAS.threadCount > 1 {
        say(
          "BLAS:    \(BLAS.name) \(BLAS.version), kernel \(BLAS.kernel), one thread for each network (\(Swift.min(p.ensembleSize, ProcessInfo.processInfo.activeProcessorCount)) training at a time: the same fit on any core count)"
        )
      } else if TabularModel.trainsOnOneBLASThread(p.network.sizes) && BLAS.threadCount > 1 {
        say(
          "BLAS:    \(BLAS.name) \(BLAS.version), kernel \(BLAS.kernel), one thread for these small layers (the same fit on any core count)"
        )
      } else {
        say("BLAS:    \(BLAS.summary)")
      }
      if p.processCount > 1 {
        say(
          "Processes: \(p.processCount) (MPI, data-parallel: each computes the gradients of about \(p.trainCount / p.processCount) of the training examples; one allreduce per step)"
        )
      }
    }

    /// "120", "120 and 97", "120, 97 and 131".
    static func list(_ items: [String]) -> String {
      items.count < 2 ? items.joined() : items.dropLast().joined(separator: ", ") + " and " + items.last!
    }

    /// "up to 1000 epochs in batches of 32, stopping after 50 epochs without
    /// a better validation cost (automatic for 291 training rows)".
    static func describe(_ plan: TabularModel.TrainingPlan, trainCount: Int) -> String {
      var text = "up to \(plan.epochs) epochs in "
      text += plan.batchSize >= trainCount ? "one batch of \(plan.batchSize)" : "batches of \(plan.batchSize)"
      if let e = plan.earlyStopping {
        text += ", stopping after \(e.patience) epochs without a better validation cost"
        if e.minDelta > 0 { text += " (by at least \(e.minDelta))" }
        text += ", then keeping the best epoch's weights"
      }
      if plan.l2 > 0 { text += ", L2 λ \(String(format: "%.3g", plan.l2))" }
      if plan.keepProbability < 1 { text += ", dropout \(String(format: "%.3g", 1 - plan.keepProbability))" }
      var automatic: [String] = []
      if plan.automatic.epochs { automatic.append("epochs") }
      if plan.automatic.batchSize { automatic.append("batch size") }
      if plan.automatic.earlyStopping { automatic.append("patience") }
      if !automatic.isEmpty {
        text += "; \(automatic.joined(separator: ", ")) chosen for \(trainCount) training rows"
      }
      return text
    }

    static func builtInDataPath() throws(CLIError) -> String {
      guard let url = Bundle.module.url(forResource: "wdbc", withExtension: "csv") else {
        throw CLIError("the built-in data set wdbc.csv is missing from this build; pass --data FILE.csv")
      }
      return url.path
    }
  }
}

extension TabularModel.CalibrationMethod: ExpressibleByArgument {}
extension TabularModel.Scaling: ExpressibleByArgument {}
extension TabularModel.BinEdges: ExpressibleByArgument {}
extension TabularModel.Task: ExpressibleByArgument {}
extension TabularModel.RegressionLoss: ExpressibleByArgument {}
