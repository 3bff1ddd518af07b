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

extension BLASNetCommand {
  struct Train: ParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Train a classifier on a CSV file (or the built-in breast-cancer data) and report its metrics.")

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
        "Read --data in a stream and train from a cache of the encoded rows (the default for files of \(Train.streamingThreshold >> 20) MiB or more)."
    )
    var stream = false
    @Option(
      help: ArgumentHelp(
        "The folder of the data cache of a streamed --data (default: FILE.blasnet-cache next to it); implies --stream.",
        valueName: "folder"))
    var cache: String?
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
    @Option(
      name: .customLong("validation-fraction"),
      help: "Share of the training split held out (stratified) to watch the validation cost each epoch; 0: none.")
    var validationFraction: Double = 0.2
    @Option(
      help: "Stop after this many epochs without improvement of the validation cost; keep the best epoch's weights.")
    var patience: Int?
    @Option(
      name: .customLong("min-delta"), help: "The least decrease of the validation cost that counts as an improvement.")
    var minDelta: Double = 0
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
      help: "Missing values in feature columns: error, mean, median or zero (statistics from the training split).")
    var missing: MissingValueChoice = .error
    @Option(
      name: .customLong("missing-markers"),
      help: ArgumentHelp(
        "Fields read as missing, comma-separated, case-insensitive (an empty field always is).",
        valueName: "markers"))
    var missingMarkers: String = TabularEncoder.defaultMissingMarkers.filter { !$0.isEmpty }.joined(separator: ",")
    @Option(
      name: .customLong("max-categories"),
      help: "The most categories a text column may have in the training split before it is refused as an identifier.")
    var maxCategories: Int = 50
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
    @Option(help: "OpenBLAS threads (default: OpenBLAS's own choice).")
    var threads: Int?
    @Option(help: "Where to save the model (written atomically; - for standard output).")
    var save: String = "blasnet-model.json"
    @Option(help: "Where to draw the cost curve (SVG; - for standard output).")
    var plot: String = "blasnet-cost.svg"
    @Option(help: "Where to draw the ROC curve of the test split (SVG; - for standard output; default: none).")
    var roc: String?
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
      guard validationFraction >= 0 && validationFraction < 1 else {
        throw ValidationError("--validation-fraction must be in [0, 1), got \(validationFraction)")
      }
      if let patience {
        guard patience >= 1 else { throw ValidationError("--patience must be at least 1 epoch, got \(patience)") }
        guard validationFraction > 0 else {
          throw ValidationError("--patience watches the validation cost: it needs --validation-fraction above 0")
        }
      }
      guard minDelta >= 0 && minDelta.isFinite else {
        throw ValidationError("--min-delta must be ≥ 0, got \(minDelta)")
      }
      guard maxCategories >= 1 else {
        throw ValidationError("--max-categories must be at least 1, got \(maxCategories)")
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
        guard data == nil, !stream, cache == nil else {
          throw ValidationError(
            "--x/--y replace --data: give one or the other (they are already arrays; no cache is made)")
        }
        guard label == nil, ignoredColumns.isEmpty, missing == .error else {
          throw ValidationError("--label, --ignore and --missing are for CSV columns; --x/--y are arrays of numbers")
        }
      } else if examplesAsRows {
        throw ValidationError("--examples-as-rows describes --x; without --x it means nothing")
      }
    }

    /// Files of this size or more are read in a stream unless they are read in memory anyway.
    static let streamingThreshold = 256 << 20

    /// Whether `path` is read in a stream (and through the cache).
    func streams(_ path: String) -> Bool {
      if stream || cache != nil { return true }
      let size = (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? 0
      return size >= Self.streamingThreshold
    }

    /// The fields read as missing: the empty field and `--missing-markers`.
    var markers: [String] {
      [""] + missingMarkers.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
    }

    /// `--ignore a,b --ignore c` → a, b, c.
    var ignoredColumns: [String] {
      ignore.flatMap { $0.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) } }.filter { !$0.isEmpty }
    }

    func run() throws { try run(group: SingleProcess()) }

    /// Trains on the processes of `group`: one (`blasnet train`), or
    /// several started by mpirun (`blasnet-mpi train`), data-parallel. Every
    /// process reads and encodes the data; process 0 alone prints the report
    /// and writes the files. Every process must call this with the same arguments.
    func run(group: any ProcessGroup) throws {
      applyThreads(threads)
      let reporter = group.rank == 0
      let outputs = [("--save", save), ("--plot", plot)] + (roc.map { [("--roc", $0)] } ?? [])
      // Up to training, a failure on one process stops them all (none waits
      // for the others in a collective call that never comes).
      var path = data ?? x ?? ""
      let streaming = data != nil && streams(path)
      let loadStarted = ContinuousClock.now
      var built: Loaded?
      if streaming && group.size > 1 {
        // Process 0 reads the file and writes the cache; the others then read the cache.
        _ = try ProcessFailure.agree(group) { () throws(CLIError) in
          if reporter {
            try OutputPaths.check(outputs: outputs, inputs: [("--data", path)])
            built = try loadStreaming(path, mayBuild: true)
          }
        }
      }
      let loaded = try ProcessFailure.agree(group) { () throws(CLIError) in
        if let built { return built }
        if data == nil && x == nil { path = try Self.builtInDataPath() }
        if reporter {
          let inputs = x.map { [("--x", $0), ("--y", y!)] } ?? [("--data", path)]
          try OutputPaths.check(outputs: outputs, inputs: inputs)
        }
        if x != nil { return try loadArrays() }
        return streaming ? try loadStreaming(path, mayBuild: reporter) : try load(path)
      }
      let preparation = ContinuousClock.now - loadStarted
      // With the model or a plot on standard output, the report goes to standard error.
      let toStandardError = outputs.contains { $0.1 == "-" }
      func say(_ text: String = "") {
        if !reporter { return }
        if toStandardError {
          FileHandle.standardError.write(Data((text + "\n").utf8))
        } else {
          print(text)
        }
      }
      let (table, classes, split, trainRows, validationRows, inner, encoder, all, notes) = loaded
      try classes.checkCount(table)
      let binary = classes.count == 2
      if !binary && (threshold ?? targetSensitivity ?? targetSpecificity) != nil {
        throw CLIError(
          "a decision threshold is for two classes; the label \"\(table.labelName)\" has \(classes.count) (the class with the highest probability is predicted)"
        )
      }
      if split.train.isEmpty || split.test.isEmpty {
        throw CLIError(
          "\(path): \(table.count) examples are too few to hold out \(Int(testFraction * 100)) % for testing")
      }
      if let inner, inner.train.isEmpty || inner.test.isEmpty {
        throw CLIError(
          "\(path): \(split.train.count) training examples are too few to hold out \(Int(validationFraction * 100)) % for validation; use --validation-fraction 0"
        )
      }
      let train = all.subset(trainRows)
      let validation = validationRows.map { all.subset($0) }
      let test = all.subset(split.test)
      // Made once (from the label codes, for a mapped table).
      let trainLabels = train.labels!
      let weightsOfClasses = try classes.weights(classWeight, training: trainLabels)
      let scaler = train.standardizer(encoder)
      let sizes = [encoder.width] + layers.sizes + [binary ? 1 : classes.count]
      let chosen = optimizer.optimizer(learningRate: learningRate, weightDecay: weightDecay)
      let memory = TrainingMemory(
        sizes: sizes, batchSize: batchSize == 0 ? train.count : min(batchSize, train.count), optimizer: chosen,
        dropout: keepProb < 1)
      if let available = availableMemory(), memory.total > available {
        throw CLIError(
          "the network \(sizes.map(String.init).joined(separator: " → ")) needs about \(memory) to train, but \(TrainingMemory.format(available)) of memory is available; use smaller --layers (or a smaller --batch-size)"
        )
      }
      var network = Network<Float>(
        sizes: sizes, hiddenActivation: activation.activation, outputActivation: binary ? .sigmoid : .softmax,
        seed: seed)
      let dataName =
        data == nil && x == nil ? "built-in breast-cancer data (wdbc.csv)" : x.map { "\($0) and \(y!)" } ?? path
      let columnsRead = encoder.columns.count
      let features =
        encoder.width == columnsRead
        ? "\(columnsRead) features" : "\(columnsRead) feature columns → \(encoder.width) inputs"
      say("Data:    \(dataName): \(all.count) examples, \(features), label \"\(table.labelName)\"")
      if streaming {
        say(
          "Cache:   \(DataCache.folder(for: path, cache)) (\(formatDuration(preparation)) to read\(group.size > 1 ? " on this process" : "")); training reads the encoded rows from it batch by batch"
        )
      }
      if !table.ignored.isEmpty { say("Ignored: \(table.ignored.joined(separator: ", "))") }
      let oneHot = encoder.columns.compactMap { c -> String? in
        guard case .oneHot(let categories) = c.encoding else { return nil }
        return
          "\(c.name) (\(categories.count): \(categories.prefix(6).joined(separator: ", "))\(categories.count > 6 ? ", …" : ""))"
      }
      if !oneHot.isEmpty { say("Encoded: one-hot \(oneHot.joined(separator: "; "))") }
      if !notes.filled.isEmpty {
        let with = missing == .zero ? "0" : "the training split's \(missing.rawValue)"
        say("Missing: \(Dataset.filledSummary(notes, encoder: encoder)) with \(with)")
      }
      if binary {
        say(
          "Classes: \(classes.name(0)) (negative), \(classes.name(1)) (positive\(positiveClass == nil ? "; --positive-class to choose" : ""))"
        )
      } else {
        say(
          "Classes: \(classes.count): \(classes.names.prefix(12).joined(separator: ", "))\(classes.count > 12 ? ", …" : "")"
        )
      }
      for u in notes.unseen {
        let c = encoder.columns[u.column].name
        let rows = u.count == 1 ? "1 row" : "\(u.count) rows"
        say(
          "Unseen:  \(c) = \(quoted(u.firstValue))\(u.count > 1 ? " and others" : "") in \(rows) outside the training split: encoded as no category (all zeros)"
        )
      }
      let held = validation.map { " / \($0.count) validation" } ?? ""
      say("Split:   \(train.count) train\(held) / \(test.count) test (stratified, seed \(seed))")
      if let weightsOfClasses {
        let shown = weightsOfClasses.enumerated().map { "\(classes.name($0)) → \(format($1, 3))" }
        say("Weights: \(shown.joined(separator: ", ")) (class weights in the training cost)")
      }
      say("Network: \(network)  (\(network.parameterCount) parameters)")
      say("BLAS:    \(BLAS.summary)")
      let options = TrainingOptions(
        epochs: epochs, optimizer: chosen,
        batchSize: batchSize == 0 ? nil : batchSize, l2: l2, keepProbability: keepProb, seed: seed,
        recordCostEvery: max(1, epochs / 100),
        earlyStopping: patience.map { EarlyStopping(patience: $0, minDelta: minDelta) })
      let yTrain = classes.targets(trainLabels)
      let xTrain = train.mapped == nil ? scaler.transform(train.x) : .zeros(0, 0)
      try checkL2(network: network, x: train.mapped == nil ? xTrain : train.sample(scaler), y: yTrain)
      let exampleWeights: Matrix<Float>? = weightsOfClasses.map {
        DataSplit.exampleWeights(classIndices: classes.indices(trainLabels), classWeights: $0)
      }
      let validationData = validation.map {
        ValidationData(x: $0.mapped == nil ? scaler.transform($0.x) : .zeros(0, 0), y: classes.targets($0.labels!))
      }
      if group.size > 1 {
        say(
          "Processes: \(group.size) (MPI, data-parallel: each computes the gradients of about \(train.count / group.size) of the training examples; one allreduce per step)"
        )
      }
      var progress = ProgressReporter(epochs: epochs, quiet: quiet || !reporter)
      let started = ContinuousClock.now
      let history: TrainingHistory
      var allreduce: (time: Duration, calls: Int)?
      var replicasAgree = true
      do {
        if group.size == 1 && train.mapped == nil {
          history = try network.train(
            x: xTrain, y: yTrain, weights: exampleWeights, validation: validationData, options: options
          ) { progress.report($0) }
        } else {
          var parallel = try DataParallelTrainer(network: network, options: options, group: group)
          if let rows = train.mapped {
            // Batches read from the mapped file and standardised as they are read.
            history = try parallel.fit(
              LabelledExamples(
                StandardizedExamples(rows.source, standardizer: scaler), labels: yTrain, weights: exampleWeights),
              validation: validation.map {
                LabelledExamples(
                  StandardizedExamples($0.mapped!.source, standardizer: scaler), labels: validationData!.y)
              }
            ) { progress.report($0) }
          } else {
            history = try parallel.fit(
              LabelledExamples(xTrain, labels: yTrain, weights: exampleWeights),
              validation: validationData.map { LabelledExamples($0.x, labels: $0.y) }
            ) { progress.report($0) }
          }
          network = parallel.network
          allreduce = (parallel.allreduceTime, parallel.allreduceCalls)
          replicasAgree = parallel.parametersAgree()
        }
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
      guard reporter else { return }
      say(
        "Trained: \(history.epochsRun) epochs in \(formatDuration(elapsed)), final cost \(format(history.finalCost ?? .nan, 4))"
      )
      if let allreduce, allreduce.calls > 0, group.size > 1 {
        let share = allreduce.time / elapsed * 100
        say(
          "Replicas: \(replicasAgree ? "every process holds the same parameters (compared bit for bit)" : "the processes' parameters differ (compared bit for bit); the model saved is process 0's")"
        )
        say(
          "Allreduce: \(allreduce.calls) calls of \(network.parameterCount + 1) floats, \(format(seconds(allreduce.time / allreduce.calls) * 1e6, 0)) µs each on average on process 0 (\(format(share, 1)) % of the training time, waiting for the others included)"
        )
      }
      if history.stoppedByEarlyStopping, let best = history.bestEpoch {
        say(
          "Stopped: early at epoch \(history.epochsRun), after \(patience ?? 0) epochs without an improvement of the validation cost; kept the weights of epoch \(best) (validation cost \(format(history.bestValidationCost ?? .nan, 4)))"
        )
      } else if history.restoredBestWeights, let best = history.bestEpoch {
        say(
          "Kept:    the weights of epoch \(best), the best validation cost (\(format(history.bestValidationCost ?? .nan, 4)))"
        )
      }
      var model = TabularModel(
        network: network, encoder: encoder, standardizer: scaler, labelName: table.labelName,
        classNames: classes.names, threshold: binary ? threshold : nil)
      let report = Report(model: model, warnFarValues: false)
      var chosenHow = threshold == nil ? "the default" : "--threshold"
      if let validation, let target = targetSensitivity ?? targetSpecificity {
        let bySensitivity = targetSensitivity != nil
        let point = try report.operatingPoint(
          on: validation, target: target, bySensitivity: bySensitivity)
        model.threshold = point.threshold
        chosenHow =
          "chosen on the validation split for \(bySensitivity ? "sensitivity" : "specificity") ≥ \(target): there sensitivity \(format(point.sensitivity, 4)), specificity \(format(point.specificity, 4))"
      }
      say()
      let sets = [("train", train)] + (validation.map { [("validation", $0)] } ?? []) + [("test", test)]
      say(try Report(model: model, warnFarValues: false).table(sets, thresholdNote: chosenHow))
      let encoded: Data
      do {
        encoded = try model.encoded()
      } catch {
        throw CLIError("\(error)")
      }
      try OutputPaths.write(encoded, to: save)
      say(save == "-" ? "Wrote the model to standard output" : "Saved the model to \(save)")
      try OutputPaths.write(Data(CostPlot.svg(history: history, title: "Cost — \(network)").utf8), to: plot)
      say(plot == "-" ? "Wrote the cost curve to standard output" : "Drew the cost curve in \(plot)")
      if let roc {
        let svg = try Report(model: model, warnFarValues: false).rocPlot(test, title: "ROC (test split) — \(network)")
        try OutputPaths.write(Data(svg.utf8), to: roc)
        say(roc == "-" ? "Wrote the ROC curve to standard output" : "Drew the ROC curve in \(roc)")
      }
    }

    /// The table read and encoded: the classes, the split, the encoder
    /// fitted on the training rows and every row encoded. The CSV file's
    /// bytes and field ranges are freed when this returns.
    func load(_ path: String) throws(CLIError) -> Loaded {
      let table = try TrainingTable(path: path, label: label, ignore: ignoredColumns, markers: markers)
      let (classes, split, trainRows, validationRows, inner) = try splitRows(
        LabelColumn(table.labels), labelName: table.labelName)
      // Everything the encoder and the scaler learn comes from the training
      // rows. Every field is checked here, before the counts in run().
      let (encoder, all, notes) = try table.fitAndEncode(
        trainingRows: trainRows, missing: missing.strategy, maxCategories: maxCategories)
      return (TableSummary(table), classes, split, trainRows, validationRows, inner, encoder, all, notes)
    }

    typealias Loaded = (
      table: TableSummary, classes: ClassLabels, split: (train: [Int], test: [Int]), trainRows: [Int],
      validationRows: [Int]?, inner: (train: [Int], test: [Int])?, encoder: TabularEncoder, all: Dataset,
      notes: TabularEncoder.Notes
    )

    /// The classes of `labels`, and the stratified split: test rows, then
    /// the validation rows out of the training split (never the test split).
    func splitRows(_ labels: LabelColumn, labelName: String) throws(CLIError) -> (
      classes: ClassLabels, split: (train: [Int], test: [Int]), trainRows: [Int], validationRows: [Int]?,
      inner: (train: [Int], test: [Int])?
    ) {
      let classes = try ClassLabels(labels: labels.names, labelName: labelName, positive: positiveClass)
      let stratumOfCode = classes.strata(labels.names)
      let strata = labels.codes.map { stratumOfCode[Int($0)] }
      let split = DataSplit.trainTestIndices(
        count: labels.count, testFraction: testFraction, seed: seed, stratifyBy: strata)
      var trainRows = split.train
      var validationRows: [Int]?
      var inner: (train: [Int], test: [Int])?
      if validationFraction > 0 {
        let outer = split.train
        let part = DataSplit.trainTestIndices(
          count: outer.count, testFraction: validationFraction, seed: seed &+ 1, stratifyBy: outer.map { strata[$0] })
        validationRows = part.test.map { outer[$0] }
        trainRows = part.train.map { outer[$0] }
        inner = part
      }
      return (classes, split, trainRows, validationRows, inner)
    }

    /// ``load(_:)`` for a file read in a stream: the rows' labels, the split,
    /// the encoder and the encoded rows from the cache, made first if they are
    /// not there (`mayBuild`) or not current.
    func loadStreaming(_ path: String, mayBuild: Bool) throws(CLIError) -> Loaded {
      if missing == .median {
        throw CLIError(
          "--missing median needs every value of a column in memory, and \(path) is read in a stream (--stream, --cache, or a file of \(Self.streamingThreshold >> 20) MiB or more): use --missing mean or zero"
        )
      }
      let cache = try DataCache(csv: path, folder: self.cache)
      if mayBuild { try cache.create() }
      let rows = try StreamedRows.read(
        path: path, label: label, ignore: ignoredColumns, markers: markers, cache: cache, mayBuild: mayBuild)
      let table = TableSummary(path: path, labelName: rows.labelName, ignored: rows.ignored, count: rows.count)
      let (classes, split, trainRows, validationRows, inner) = try splitRows(rows.labels, labelName: rows.labelName)
      let (encoder, notes, examples) = try rows.encode(
        trainingRows: trainRows, missing: missing.strategy, maxCategories: maxCategories, cache: cache,
        mayBuild: mayBuild)
      let all = Dataset(
        file: path, featureNames: encoder.featureNames, labelName: rows.labelName, x: .zeros(0, 0), textLabels: nil,
        lines: [], columns: encoder.sourceColumns.map { rows.featureColumns[$0] + 1 },
        mapped: Dataset.MappedRows(examples: examples, rows: nil, labels: rows.labels, lines: rows.lines))
      return (table, classes, split, trainRows, validationRows, inner, encoder, all, notes)
    }

    /// ``load(_:)`` for `--x` and `--y`: X mapped, Y read, every input a number.
    func loadArrays() throws(CLIError) -> Loaded {
      let arrays = try NPYTable(x: x!, y: y!, examplesAsRows: examplesAsRows)
      try arrays.checkFinite()
      let m = arrays.labels.count
      let labelName = URL(fileURLWithPath: y!).deletingPathExtension().lastPathComponent
      let table = TableSummary(path: x!, labelName: labelName, ignored: [], count: m)
      let (classes, split, trainRows, validationRows, inner) = try splitRows(arrays.labels, labelName: labelName)
      let encoder = TabularEncoder(numericColumns: (1...arrays.examples.featureCount).map { "x\($0)" })
      let all = Dataset(
        file: x!, featureNames: encoder.featureNames, labelName: labelName, x: .zeros(0, 0), textLabels: nil,
        lines: [], columns: Array(1...encoder.width),
        mapped: Dataset.MappedRows(
          examples: arrays.examples, rows: nil, labels: arrays.labels, lines: (1...Int32(clamping: m)).map { $0 }))
      return (table, classes, split, trainRows, validationRows, inner, encoder, all, TabularEncoder.Notes())
    }

    /// Refuses an `--l2` so large that its penalty outweighs the data's cost
    /// a million times over at the start: training could then do nothing but
    /// shrink the weights towards zero (with Adam the cost stays astronomical
    /// but finite, so the divergence check would not see it).
    func checkL2(network: Network<Float>, x: Matrix<Float>, y: Matrix<Float>) throws(CLIError) {
      guard l2 > 0 else { return }
      let dataCost = Double(network.cost(x: x, y: y))
      let squares = Double(Losses.l2Penalty(of: network, lambda: 2, examples: 1))
      let penalty = l2 * squares / (2 * Double(x.columns))
      if !(penalty <= 1e6 * Swift.max(dataCost, 1e-3)) {
        let balance = dataCost * 2 * Double(x.columns) / squares
        throw CLIError(
          "--l2 \(l2) makes the L2 penalty at the start (\(String(format: "%.3g", penalty))) outweigh the data's cost (\(format(dataCost, 4))) more than a million times: training could only shrink the weights to zero; use a far smaller --l2 (at \(String(format: "%.2g", balance)) the two are equal)"
        )
      }
    }

    static func builtInDataPath() throws(CLIError) -> String {
      guard let url = Bundle.module.url(forResource: "wdbc", withExtension: "csv") else {
        throw CLIError("the built-in data set wdbc.csv is missing from this build; pass --data FILE.csv")
      }
      return url.path
    }
  }
}
