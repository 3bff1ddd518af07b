import Dispatch
import Foundation
import LinearAlgebra
import NeuralNetwork
import Synchronization

/// Where a training table comes from.
public enum TableSource: Sendable {
  /// A CSV file with a header row, read whole, or in a stream through a cache
  /// of the encoded rows when ``TabularModel/FitOptions/streaming`` says so.
  case csvFile(String)
  /// CSV bytes already in memory; `name` stands for the file in messages.
  case csvData(Data, name: String)
  /// Rows already in memory, as strings as they would stand in a CSV file
  /// (an empty string or a missing marker is a missing value); `name` stands
  /// for the file in messages, and row k is called line k + 2 there (the
  /// header being line 1).
  case rows(header: [String], rows: [[String]], name: String)
  /// Arrays saved by NumPy: `x` a 2-D `.npy` array of numbers (n_x × m,
  /// examples as columns, or m × n_x with `examplesAsRows`) and `y` a vector
  /// of m class values.
  case npy(x: String, y: String, examplesAsRows: Bool)
}

extension TabularModel {
  /// Whether a fit trains a network of these layer sizes in single-threaded
  /// BLAS: when every layer has at most `Predictor.largestOrderedLayer`
  /// weights, so that the fit is the same bit for bit whatever the core
  /// count and whatever else the process runs.
  public static func trainsOnOneBLASThread(_ sizes: [Int]) -> Bool {
    zip(sizes, sizes.dropFirst()).allSatisfy { $0 * $1 <= Predictor<Float>.largestOrderedLayer }
  }
}

extension TabularModel {
  /// How ``fit(_:options:group:checkBeforeReading:prepared:progress:)`` reads,
  /// encodes, splits and trains. The defaults are `blasnet train`'s.
  public struct FitOptions: Sendable {
    /// The label column (default: the last column).
    public var label: String?
    /// Classes (the default) or a number (a regression: linear output, the
    /// target standardised for training, predictions in its own units).
    public var task: Task = .classification
    /// A regression's cost on the standardised target.
    public var regressionLoss: RegressionLoss = .squaredError
    /// Columns left out (an id, say); the model remembers them and skips them when predicting.
    public var ignoredColumns: [String] = []
    /// The positive class of a two-class label (default: the larger number,
    /// or the second name in sorted order).
    public var positiveClass: String?
    /// Missing values in feature columns: filled from the training split
    /// (the median by default; a missing text value is a category of its own
    /// with ``missingIndicators``, else no category), or an error.
    public var missing: MissingValueStrategy = .median
    /// Whether a column with missing values in the training rows gets an
    /// input that is 1 where a value was missing, so that a missing value can
    /// mean something of its own: a numeric column's second input (beside
    /// the fill), a text column's last (missing as a category of its own;
    /// without it, a missing text value encodes as no category).
    public var missingIndicators = true
    /// Fields read as missing (case-insensitive); an empty field always is.
    public var missingMarkers: [String] = TabularEncoder.defaultMissingMarkers
    /// The most categories of a text column one-hot encoded: its most
    /// frequent in the training split (the others, and any category unseen
    /// in training, share one more input: ``FeatureColumn/otherCategory``). A
    /// text column with more, and a different value in at least every other
    /// training row, is left out as an identifier (refused when streamed).
    public var maxCategories = 50
    /// The share of the examples held out for testing (stratified), in [0, 1):
    /// 0 holds out none (every row trains or validates; the report has no
    /// test metrics), for a model whose test data are elsewhere. Not used
    /// with ``testData`` or by cross-validation (its folds are the test rows).
    public var testFraction = 0.2
    /// A CSV file whose rows are the test split: then no test rows are cut
    /// from the training data (``testFraction`` is not used), and the test
    /// metrics are those of the finished model on this file.
    public var testData: String?
    /// The share of the training split held out for validation (stratified), in [0, 1).
    public var validationFraction = 0.2
    /// Hidden layer sizes (default: one layer of 100, as scikit-learn's `MLPClassifier`).
    public var hiddenLayers = [100]
    /// The hidden layers' activation (anything but softmax).
    public var hiddenActivation: Activation = .relu
    /// The most passes over the training split; nil: from the table's size
    /// (``TrainingPlan/automatic(trainingExamples:options:)``).
    public var epochs: Int?
    public var optimizer: Optimizer = .adam(learningRate: 0.001)
    /// Examples per mini-batch: from the table's size unless set.
    public var batchSize: BatchSize = .automatic
    /// L2 penalty λ (the course's λ/2m·ΣW², m the mini-batch's examples);
    /// nil: ``defaultL2(trainingExamples:)``, from the training rows.
    public var l2: Double?

    /// The L2 penalty of a classifier of at most ``l2FullUpTo`` training rows
    /// when ``l2`` is nil. Small tables are otherwise fitted noise and all: the
    /// mean test accuracy over 30 seeds on iris, wine and breast cancer rose
    /// from 0.940, 0.968 and 0.976 to 0.954, 0.974 and 0.979 with it
    /// (`blasnet-bench --defaults`).
    public static let classificationL2 = 0.3
    /// The L2 penalty of a regression of at most ``l2FullUpTo`` training rows
    /// when ``l2`` is nil: on scikit-learn's diabetes table the held-out R²
    /// was 0.25–0.62 over eight seeds without it, 0.41–0.65 with it.
    public static let regressionL2 = 3.0
    /// The training rows up to which the small-table λ holds; beyond, it
    /// falls as 1/rows (a classifier) or 1/rows⁴ (a regression). The penalty
    /// is per mini-batch, so a fixed λ weighs as much on 30,000 rows as on 300,
    /// and larger tables were held back by it: over `blasnet-bench --tables`'
    /// eleven tables (5 seeds), this instead of a fixed λ lifted diamonds' R²
    /// from 0.916 to 0.976, concrete's from 0.741 to 0.839 (0.876 with λ 0.14,
    /// but diabetes needs 3), spam's accuracy from 0.929 to 0.943, hpc_data's
    /// from 0.723 to 0.764. A regression's λ falling as 1/rows⁴ rather than
    /// 1/rows² lifted concrete's R² (659 training rows: λ 0.62 → 0.13) from
    /// 0.889 to 0.913 and kept diabetes' (283 rows: λ 3 either way; 2.2 →
    /// 1.5 for the refit on 354) at 0.463 against 0.465 (10 seeds); ames'
    /// went from 0.905 to 0.900.
    public static let l2FullUpTo = 300

    /// λ when ``l2`` is nil: ``classificationL2`` × min(1, ``l2FullUpTo`` / rows)
    /// for a classifier, ``regressionL2`` × min(1, ``l2FullUpTo`` / rows)⁴ for a
    /// regression.
    public func defaultL2(trainingExamples m: Int) -> Double {
      let share = Swift.min(1, Double(Self.l2FullUpTo) / Double(Swift.max(m, 1)))
      return task == .regression ? Self.regressionL2 * share * share * share * share : Self.classificationL2 * share
    }

    /// The L2 penalty in force for `m` training rows.
    public func l2(trainingExamples m: Int) -> Double { l2 ?? defaultL2(trainingExamples: m) }

    /// The automatic bins range from ``automaticBins``'s lower bound to its upper.
    public static let automaticBins = 4...16
    /// Training rows per binned input that the automatic bins keep at least.
    public static let rowsPerBinnedInput = 8

    /// The bins in force for `rows` training rows with `numeric` numeric
    /// inputs: ``piecewiseLinearBins`` when set; else as many as keep
    /// ``rowsPerBinnedInput`` training rows for each binned input, rows /
    /// (8 × numeric), within ``automaticBins`` (4 to 16): more bins, finer
    /// piecewise-linear functions, where the rows can fit them.
    public func bins(trainingRows rows: Int, numericInputs numeric: Int) -> Int {
      if let piecewiseLinearBins { return piecewiseLinearBins }
      let fitting = Swift.max(rows, 0) / (Self.rowsPerBinnedInput * Swift.max(numeric, 1))
      return Swift.min(Self.automaticBins.upperBound, Swift.max(Self.automaticBins.lowerBound, fitting))
    }

    /// Checks the options on their own (what fits them to a table is
    /// checked when the table is read): the first problem is thrown, its
    /// message naming the option first (``TableError/settings``).
    public func validate() throws(TableError) {
      func require(_ ok: Bool, _ setting: Setting, _ problem: @autoclosure () -> String) throws(TableError) {
        if !ok { throw TableError("\(setting.named) \(problem())") }
      }
      try require(
        testFraction >= 0 && testFraction < 1, .testFraction, "must be at least 0 and below 1, got \(testFraction)")
      if testData != nil {
        try require(testRows == nil, .testData, "and cross-validation folds cannot be used together")
      }
      try require(
        validationFraction >= 0 && validationFraction < 1, .validationFraction,
        "must be in [0, 1), got \(validationFraction)")
      if let epochs { try require(epochs >= 1, .epochs, "must be at least 1, got \(epochs)") }
      if case .examples(let b) = batchSize { try require(b >= 1, .batchSize, "must be at least 1, got \(b)") }
      if let l2 { try require(l2 >= 0 && l2.isFinite, .l2, "must be ≥ 0, got \(l2)") }
      if let keepProbability {
        try require(
          keepProbability > 0 && keepProbability <= 1, .keepProbability, "must be in (0, 1], got \(keepProbability)")
      }
      try require(maxCategories >= 1, .maxCategories, "must be at least 1, got \(maxCategories)")
      if let bins = piecewiseLinearBins {
        try require(
          bins == 0 || (2...1024).contains(bins), .piecewiseLinearBins, "must be 0 (off) or from 2 to 1024, got \(bins)"
        )
      }
      try require((1...64).contains(ensembleSize), .ensembleSize, "must be from 1 to 64, got \(ensembleSize)")
      try require(!hiddenLayers.contains { $0 < 1 }, .hiddenLayers, "need at least 1 unit each, got \(hiddenLayers)")
      try require(hiddenActivation != .softmax, .hiddenActivation, "cannot be softmax: it is for the output layer only")
      let rate = optimizer.learningRate
      try require(rate > 0 && rate.isFinite, .learningRate, "must be a positive number, got \(rate)")
      if let problem = optimizer.problem { throw TableError("\(Setting.optimizer.named): \(problem)") }
      try require(bootstrap >= 0, .bootstrap, "must be 0 (none) or more, got \(bootstrap)")
      if calibration != nil {
        try require(
          validationFraction > 0, .calibration,
          "is fitted on the validation split: it needs \(Setting.validationFraction.named) above 0")
      }
      if case .on(let e) = earlyStopping {
        try require(e.patience >= 1, .earlyStopping, "needs a patience of at least 1 epoch, got \(e.patience)")
        try require(
          validationFraction > 0, .earlyStopping,
          "watches the validation cost: it needs \(Setting.validationFraction.named) above 0")
      }
      switch threshold {
      case .standard: break
      case .fixed(let t): try require(t > 0 && t <= 1, .threshold, "must be in (0, 1], got \(t)")
      case .targetSensitivity(let t), .targetSpecificity(let t):
        if !(t > 0 && t <= 1) {
          throw TableError(
            "\(Setting.threshold.named): a target sensitivity or specificity must be in (0, 1], got \(t)")
        }
        if validationFraction <= 0 {
          throw TableError(
            "\(Setting.threshold.named): a target is met on the validation split; it needs \(Setting.validationFraction.named) above 0"
          )
        }
      }
      if task == .regression {
        let regression = Setting.task.named("regression")
        try require(threshold == .standard, .threshold, "is for classes; \(regression) predicts a number")
        try require(classWeights == .none, .classWeights, "are for classes; \(regression) predicts a number")
        try require(positiveClass == nil, .positiveClass, "is for classes; \(regression) predicts a number")
        try require(calibration == nil, .calibration, "is of class probabilities; \(regression) predicts a number")
      }
    }

    /// How numeric inputs are scaled for the network (fitted on the training split).
    public var scaling: Scaling = .quantile
    /// Bins of the piecewise-linear encoding of each scaled numeric input
    /// (`PiecewiseLinearEncoding`: the value and one ramp per bin, the bin
    /// edges at its training quantiles; Gorishniy et al. 2022); 0: off, the
    /// scaled value alone; nil (the default): chosen by the table's size,
    /// ``bins(trainingRows:numericInputs:)``. The network's first layer is
    /// then (bins + 1) times as wide for the numeric inputs (an input with
    /// fewer than three distinct quantiles keeps its value alone). Over
    /// `blasnet-bench --tables` (eleven tables, 5 seeds), 4 bins for every
    /// table lifted 9 of the 11 mean scores against none (concrete's R²
    /// 0.871 → 0.886, ames' 0.892 → 0.896, hpc_data's accuracy 0.801 →
    /// 0.805); 16 bins lifted concrete (0.913 → 0.929), hpc_data (0.807 →
    /// 0.820) and diamonds (0.9788 → 0.9810) further but lowered the small
    /// tables with many numeric columns (cells 0.817 → 0.809, penguins) and
    /// scikit-learn's diabetes table (R² 0.463 → 0.441): hence bins by rows.
    public var piecewiseLinearBins: Int?
    /// Where the piecewise-linear encoding's bin edges go (``BinEdges``).
    /// Over `blasnet-bench --tables` (eleven tables, 5 seeds) edges where
    /// the label changes lifted hpc_data's accuracy from 0.807 to 0.810,
    /// concrete's R² from 0.889 to 0.894 and mlc_churn's accuracy from 0.943
    /// to 0.945, lowered credit_data's, cells' and spam's by about 0.2
    /// points, and took 1.2 times as long (more inputs get bins): not the
    /// default.
    public var binEdges: BinEdges = .quantiles
    /// Whether the saved network is trained again on the training and
    /// validation rows together (``refitStart`` says how): the validation
    /// rows then teach the model as well. A calibration or a threshold
    /// target is fitted on the validation rows as the early-stopped networks
    /// predict them (out of sample) and kept by the refit model. Over
    /// `blasnet-bench --tables` (eleven tables, 5 seeds) a refit from the
    /// start lifted mlc_churn's accuracy from 0.927 to 0.935,
    /// cells' from 0.805 to 0.812, hpc_data's from 0.798 to 0.802 and
    /// concrete's R² from 0.858 to 0.869; attrition's accuracy fell from
    /// 0.887 to 0.882; the fit took about 1.5 times as long.
    public var refit = true
    /// Where the refit starts (``refit``). Continuing the early-stopped
    /// network was as accurate as training again from the start over
    /// `blasnet-bench --tables` (eleven tables, 5 seeds: ames' R² 0.882 →
    /// 0.892, attrition's accuracy 0.882 → 0.885, cells' 0.812 → 0.808, the
    /// others within 0.002) in less time: ×0.83 → ×0.62 of HGB's fit time
    /// there (`Benchmarks/results/tables/continued.txt`).
    public var refitStart: RefitStart = .continued
    /// Networks trained (each from its own seed: initial weights and batch
    /// order; the same rows) and averaged: the model's output is their mean
    /// probabilities (a regression's: their mean prediction). They train at
    /// the same time over the cores, each on one BLAS thread (one after the
    /// other in a data-parallel group of processes). Over `blasnet-bench
    /// --tables` (eleven tables, 5 seeds) two networks instead of one lifted
    /// 10 of the 11 mean scores (cells' accuracy 0.809 → 0.817 and ROC AUC
    /// 0.887 → 0.889, ames' R² 0.896 → 0.905, mlc_churn's accuracy 0.940 →
    /// 0.943, concrete's R² 0.886 → 0.889; attrition's accuracy fell 0.897 →
    /// 0.893) for about 1.3 times the fit time on 2 cores; four lifted them
    /// little more for twice that.
    public var ensembleSize = 2

    /// Inverted-dropout keep probability of the hidden layers (1: off);
    /// nil (the default): ``classificationKeepProbability`` for classes, 1
    /// for a regression (``keepProbabilityInForce``).
    public var keepProbability: Double?
    /// The keep probability of a classifier's hidden layers by default: a
    /// dropout of 0.3. Over `blasnet-bench --tables` (eleven tables, 5 seeds;
    /// `Benchmarks/results/tables/dropout.txt`) it lifted mlc_churn's
    /// accuracy from 0.943 to 0.953, hpc_data's from 0.820 to 0.822 (the two
    /// tables furthest behind gradient boosting) and attrition's from 0.888
    /// to 0.891; cells', credit_data's and stackoverflow's moved within 0.2
    /// points, spam's fell 0.955 → 0.954; keep 0.8 and 0.6 gave about the
    /// same (mlc_churn 0.949 and 0.951). On scikit-learn's small tables it
    /// cost up to 0.4 points (wdbc 0.990 → 0.986). On the regressions dropout lowered
    /// concrete's R² (0.931 → 0.923 at keep 0.8) and diamonds' (0.981 →
    /// 0.978): a dropped unit shifts a linear output's variance between
    /// training and prediction, where a class probability only needs its
    /// order.
    public static let classificationKeepProbability = 0.7
    /// The keep probability in force: ``keepProbability``, else 1 for a
    /// regression and ``classificationKeepProbability`` for classes.
    public var keepProbabilityInForce: Double {
      keepProbability ?? (task == .regression ? 1 : Self.classificationKeepProbability)
    }
    /// Seeds the weights, the split, the shuffling and dropout.
    public var seed: UInt64 = 42
    /// Stop when the validation cost stops falling, keeping the best epoch's
    /// weights: by default whenever there is a validation split.
    public var earlyStopping: EarlyStoppingChoice = .automatic
    /// Weights of the classes in the training cost.
    public var classWeights: ClassWeights = .none
    /// A two-class model's decision threshold.
    public var threshold: ThresholdChoice = .standard
    /// Calibrates the model's probabilities on the validation split (before
    /// a threshold is chosen there); the calibration is stored in the model.
    public var calibration: CalibrationMethod?
    /// A cross-validation fold's test rows (0-based data rows), instead of
    /// a split by ``testFraction``.
    package var testRows: [Int]?
    /// Resamples of the bootstrap intervals of the validation and test
    /// metrics (seeded by ``seed``; fewer for splits of more than 200,000
    /// rows, see `BootstrapIntervals.affordable(_:examples:)`); 0: none.
    public var bootstrap = 1000
    /// Whether a CSV file is read in a stream through a cache of its encoded rows.
    public var streaming: Streaming = .automatic
    /// The folder of that cache (default: `FILE.blasnet-cache` next to the file).
    public var cacheFolder: String?
    /// The most bytes that cache folder may hold: the least recently used
    /// entries of other files or options are removed to stay within it, and
    /// a file whose own entries need more is refused before they are written.
    public var cacheLimit: Int?

    public init() {}
  }

  /// Where ``FitOptions/refit`` starts from.
  public enum RefitStart: String, Sendable, Equatable, CaseIterable {
    /// The early-stopped network trained on, with its scaling, for
    /// ``continuedShare`` of the epochs early stopping kept (at least one):
    /// a few passes over every row, at a fifth of the cost of training
    /// again.
    case continued
    /// The initial weights, trained for the epochs early stopping kept, the
    /// scaling (and any bins) fitted again on the training and validation rows.
    case initial

    /// The share of the kept epochs a continued refit trains for.
    public static let continuedShare = 0.2
  }

  /// What a model predicts.
  public enum Task: String, Sendable, Equatable, CaseIterable {
    case classification
    case regression
  }

  /// Where a fit puts the bin edges of the piecewise-linear encoding.
  public enum BinEdges: String, Sendable, Equatable, CaseIterable {
    /// At the input's training quantiles: as many rows in each bin.
    case quantiles
    /// Where the label changes: the splits of a small tree on the input
    /// alone, fitted on the training rows' labels (Gorishniy et al.'s
    /// target-aware bins).
    case target
  }

  /// How a fit scales numeric inputs.
  public enum Scaling: String, Sendable, Equatable, CaseIterable {
    /// Each numeric input mapped onto the normal scores of its training
    /// quantiles (128 knots, linear between them, the extremes beyond), then
    /// standardised: scikit-learn's `QuantileTransformer` with a normal
    /// output, the preprocessing of Gorishniy et al.'s MLPs (2021). Skewed
    /// and heavy-tailed columns arrive spread evenly, an outlier no further
    /// out than the training extremes. Over `blasnet-bench --tables` (eleven
    /// tables, 5 seeds) it lifted hpc_data's accuracy from 0.773 to 0.798,
    /// spam's from 0.942 to 0.952, concrete's R² from 0.839 to 0.858 and
    /// ames' from 0.860 to 0.885; no table lost more than 0.6 points.
    case quantile
    /// Each numeric input standardised with the training mean and standard
    /// deviation (the course's scaling; models before version 4).
    case standard
  }

  /// A regression's cost.
  public enum RegressionLoss: String, Sendable, Equatable, CaseIterable {
    /// Mean squared error.
    case squaredError = "mse"
    /// Huber's (δ = 1 standard deviation of the target): a few wild labels pull less.
    case huber
  }

  /// How ``FitOptions/calibration`` calibrates the probabilities.
  public enum CalibrationMethod: String, Sendable, Equatable, CaseIterable {
    /// Platt's sigmoid on the log-odds (two classes).
    case platt
    /// Isotonic regression (two classes; best with a few hundred validation rows or more).
    case isotonic
    /// One temperature dividing the log-probabilities (any number of classes).
    case temperature
  }

  /// Examples per mini-batch.
  public enum BatchSize: Sendable, Equatable, ExpressibleByIntegerLiteral {
    /// The largest power of two not above a thousandth of the training
    /// split, at least 32 and at most 1,024 (32 up to 63,999 examples).
    case automatic
    /// This many (at least 1); the last batch of an epoch may be smaller.
    case examples(Int)
    /// The whole training split in one batch (the course's full-batch descent).
    case wholeSplit

    public init(integerLiteral value: Int) { self = .examples(value) }
  }

  /// Whether training stops early.
  public enum EarlyStoppingChoice: Sendable, Equatable {
    /// On when there is a validation split, with a patience from the table's
    /// size (``TrainingPlan/automatic(trainingExamples:options:)``); off without one.
    case automatic
    /// Train for every epoch.
    case off
    /// These settings (they need a validation split).
    case on(EarlyStopping)
  }

  /// How long and in what batches a fit trains, resolved from the options and
  /// the size of the training split.
  public struct TrainingPlan: Sendable, Equatable {
    /// The most epochs.
    public var epochs: Int
    /// Examples per mini-batch (the whole split when it has no more).
    public var batchSize: Int
    /// Early stopping, when on.
    public var earlyStopping: EarlyStopping?
    /// The L2 penalty λ (``FitOptions/l2(trainingExamples:)``).
    public var l2 = 0.0
    /// The hidden layers' dropout keep probability (``FitOptions/keepProbabilityInForce``).
    public var keepProbability = 1.0
    /// Which of the three came from the table's size rather than the options.
    public var automatic: (epochs: Bool, batchSize: Bool, earlyStopping: Bool)

    public static func == (a: Self, b: Self) -> Bool {
      a.epochs == b.epochs && a.batchSize == b.batchSize && a.earlyStopping == b.earlyStopping && a.l2 == b.l2
        && a.keepProbability == b.keepProbability && a.automatic == b.automatic
    }

    /// The automatic choices: small tables train in batches of 32 for up to
    /// 1,000 epochs with early stopping after 50 epochs without an
    /// improvement of the validation cost by 0.001 or more; large ones in
    /// larger batches for fewer epochs. Epochs and patience
    /// aim at a number of optimiser steps, not of passes: at most 1,000
    /// epochs or 100,000 steps (at least 10 epochs), patience 50 epochs or
    /// 500 steps (at least 15 epochs: with 5, tables of 30,000 rows stopped
    /// after a dozen passes, and diamonds' R² rose from 0.976 to 0.978 with
    /// 15), whichever is less.
    public static func automatic(trainingExamples m: Int, options: FitOptions) -> TrainingPlan {
      let m = Swift.max(m, 1)
      var batch: Int
      switch options.batchSize {
      case .examples(let b): batch = b
      case .wholeSplit: batch = m
      case .automatic:
        batch = 32
        while batch < 1024 && batch * 2 * 1000 <= m { batch *= 2 }
      }
      batch = Swift.min(batch, m)
      let steps = (m + batch - 1) / batch
      let epochs = options.epochs ?? Swift.min(1000, Swift.max(10, (100_000 + steps - 1) / steps))
      let hasValidation = options.validationFraction > 0
      var stopping: EarlyStopping?
      switch options.earlyStopping {
      case .off: stopping = nil
      case .on(let e): stopping = e
      case .automatic:
        let patience = Swift.min(50, Swift.max(15, (500 + steps - 1) / steps))
        stopping = hasValidation ? EarlyStopping(patience: patience, minDelta: 0.001) : nil
      }
      return TrainingPlan(
        epochs: epochs, batchSize: batch, earlyStopping: stopping, l2: options.l2(trainingExamples: m),
        keepProbability: options.keepProbabilityInForce,
        automatic: (
          options.epochs == nil, options.batchSize == .automatic, options.earlyStopping == .automatic && hasValidation
        ))
    }
  }

  /// Weights of the classes in the training cost.
  public enum ClassWeights: Sendable, Equatable {
    /// Every example weighs 1.
    case none
    /// scikit-learn's `balanced`: m / (K · count of the class) on the training split.
    case balanced
    /// The weight of each named class (as the labels name it); classes not named weigh 1.
    case byClass([String: Double])
  }

  /// How a two-class model's decision threshold is chosen.
  public enum ThresholdChoice: Sendable, Equatable {
    /// 0.5, not stored in the model.
    case standard
    /// This threshold, in (0, 1], stored in the model.
    case fixed(Double)
    /// The most specific threshold on the validation split with at least this sensitivity.
    case targetSensitivity(Double)
    /// The most sensitive threshold on the validation split with at least this specificity.
    case targetSpecificity(Double)

    /// Whether the threshold is chosen on the validation split.
    public var choosesOnValidation: Bool {
      switch self {
      case .targetSensitivity, .targetSpecificity: return true
      case .standard, .fixed: return false
      }
    }
  }

  /// Whether a CSV file is read in a stream.
  public enum Streaming: Sendable, Equatable {
    /// Files of ``streamingThreshold`` bytes or more (or any with a ``FitOptions/cacheFolder``).
    case automatic
    case always
    case never
  }

  /// Files of this size or more are read in a stream with ``Streaming/automatic``.
  public static let streamingThreshold = 256 << 20

  /// The folder of the data cache that fitting `source` with `options` reads
  /// and writes, or nil when it reads the data without one.
  public static func cacheFolder(for source: TableSource, options: FitOptions) -> String? {
    guard case .csvFile(let path) = source, Fitter(options: options, group: SingleProcess()).streams(path) else {
      return nil
    }
    return DataCache.folder(for: path, options.cacheFolder)
  }

  /// What a fit has read and set up, just before training starts.
  public struct Preparation: Sendable {
    /// The file (or name) the table came from.
    public var source: String
    /// The examples in the whole table.
    public var exampleCount: Int
    /// The label column's name.
    public var labelName: String
    /// The columns left out.
    public var ignoredColumns: [String]
    /// How the raw columns become inputs (fitted on the training split).
    public var encoder: TabularEncoder
    /// The missing values filled and the categories unseen in training, per column.
    public var notes: TabularEncoder.Notes
    /// The class names, in output order ([negative, positive] for two); none for a regression.
    public var classNames: [String]
    /// A regression's target scale (the training split's mean and standard deviation).
    public var target: TargetScale?
    /// The examples of each split.
    public var trainCount: Int
    public var validationCount: Int?
    public var testCount: Int
    /// The weight of each class in the training cost, when not all are 1.
    public var classWeights: [Double]?
    /// The network before training (the first, of an ensemble).
    public var network: Network<Float>
    /// The networks trained and averaged (``FitOptions/ensembleSize``).
    public var ensembleSize: Int
    /// The piecewise-linear encoding of the numeric inputs before the
    /// network (fitted on the training split), when it is on.
    public var piecewiseLinear: PiecewiseLinearEncoding?
    /// Epochs, batch size and early stopping, as resolved for this table.
    public var plan: TabularModel.TrainingPlan
    /// The cache folder of a streamed file, and how long reading took.
    public var cacheFolder: String?
    public var readingTime: Duration
    /// What happened to that cache: entries that failed their checks and
    /// were rebuilt, partial files of interrupted runs and old entries removed.
    public var cacheNotes: [String]
    /// The processes training together.
    public var processCount: Int
  }

  /// Metrics of a model on one named set of examples.
  public struct SplitMetrics: Sendable {
    public var name: String
    /// A two-class model's metrics at its threshold.
    public var binary: BinaryMetrics?
    /// A model with more classes: the most probable class is predicted.
    public var multiclass: MulticlassMetrics?
    /// The Brier score, the expected calibration error and the reliability bins.
    public var calibration: CalibrationMetrics?
    /// A regression's MAE, RMSE and R², in the label's units.
    public var regression: RegressionMetrics?
    /// 95 % bootstrap intervals of the main metrics (accuracy, sensitivity,
    /// specificity and ROC AUC; accuracy and macro F1), when computed.
    public var intervals: BootstrapIntervals?

    public init(
      name: String, binary: BinaryMetrics? = nil, multiclass: MulticlassMetrics? = nil,
      intervals: BootstrapIntervals? = nil
    ) {
      (self.name, self.binary, self.multiclass, self.intervals) = (name, binary, multiclass, intervals)
    }

    /// A regression's metrics: predictions and true values in the label's
    /// units, with `bootstrap` resamples (0: none) seeded by `seed`.
    public init(name: String, predicted: [Double], actual: [Double], bootstrap: Int = 0, seed: UInt64 = 0) {
      self.name = name
      regression = RegressionMetrics(predicted: predicted, actual: actual)
      let resamples = BootstrapIntervals.affordable(bootstrap, examples: actual.count)
      if resamples > 0 {
        intervals = .regression(predicted: predicted, actual: actual, resamples: resamples, seed: seed)
      }
    }

    /// The metrics of a model's outputs `p` (n_L × m) on examples of class
    /// `classes` (indices into the model's classes), at `threshold` for a
    /// single output; with `bootstrap` resamples (0: none), seeded by `seed`.
    public init(
      name: String, outputs p: Matrix<Float>, classes: [Int], threshold: Double, bootstrap: Int = 0,
      seed: UInt64 = 0
    ) {
      self.name = name
      let resamples = BootstrapIntervals.affordable(bootstrap, examples: classes.count)
      calibration =
        p.rows == 1
        ? CalibrationMetrics(positiveProbabilities: p.elements, positive: classes.map { $0 == 1 })
        : CalibrationMetrics(probabilities: p, classes: classes)
      if p.rows == 1 {
        let targets = Matrix<Float>(row: classes.map(Float.init))
        binary = BinaryMetrics(probabilities: p, labels: targets, threshold: Float(threshold))
        if resamples > 0 {
          intervals = .binary(
            scores: p.elements, positive: classes.map { $0 == 1 }, threshold: Float(threshold), resamples: resamples,
            seed: seed)
        }
      } else {
        let predicted = p.argmaxOfEachColumn()
        multiclass = MulticlassMetrics(predicted: predicted, actual: classes, classCount: p.rows)
        if resamples > 0 {
          intervals = .multiclass(
            predicted: predicted, actual: classes, classCount: p.rows, resamples: resamples, seed: seed)
        }
      }
    }
  }

  /// What ``fit(_:options:group:checkBeforeReading:prepared:progress:)`` gives back.
  public struct FitReport {
    /// The trained model, with the whole pipeline.
    public var model: TabularModel
    public var preparation: Preparation
    /// The training of the (first) network.
    public var history: TrainingHistory
    /// The training of every network of the model (one, or an ensemble's).
    public var histories: [TrainingHistory] = []
    public var trainingTime: Duration
    /// The train, validation (when held out) and test metrics, in that order.
    public var metrics: [SplitMetrics]
    /// How the threshold was chosen, in words (two classes only).
    public var thresholdNote: String
    /// How the probabilities were calibrated, in words, when they were.
    public var calibrationNote: String?
    /// The refit, when the saved network was trained again on the training
    /// and validation rows (``FitOptions/refit``): those rows, the epochs it
    /// trained for (a share of the kept ones when it continued, see
    /// ``FitOptions/refitStart``) and its time.
    public var refit: (rows: Int, epochs: Int, time: Duration)?
    /// With several processes: the allreduce calls and their time on this
    /// process, and whether every process ended with the same parameters.
    public var allreduceCalls = 0
    public var allreduceTime: Duration = .zero
    public var replicasAgree = true
    /// The test split, for plots of it.
    package var test: Dataset
  }

  /// Reads `source`, splits it (stratified), fits the encoder and the
  /// standardisation on the training rows, trains a network and measures it
  /// on every split: `blasnet train` as a function.
  ///
  /// - Parameters:
  ///   - source: the table: a CSV file, CSV bytes, rows of strings, or `.npy` arrays.
  ///   - options: how to read, encode, split and train (`blasnet train`'s defaults).
  ///   - group: the processes training together (data-parallel); every
  ///     process must call this with the same source and options. Process 0
  ///     alone calls `checkBeforeReading`, `prepared` and `progress`.
  ///   - checkBeforeReading: called first (on process 0): to check output
  ///     paths, say; a failure there stops every process.
  ///   - prepared: called once the data is read and the network built, before training.
  ///   - progress: called after every epoch.
  /// - Throws: ``TableError`` for a problem with the data, the options or
  ///   training (a divergence), naming the file, line and column where there is one.
  public static func fit(
    _ source: TableSource, options: FitOptions = FitOptions(), group: any ProcessGroup = SingleProcess(),
    checkBeforeReading: (() throws(TableError) -> Void)? = nil,
    prepared: ((Preparation) -> Void)? = nil,
    progress: ((TrainingProgress) -> TrainingControl)? = nil
  ) throws(TableError) -> FitReport {
    let fitter = Fitter(options: options, group: group)
    do {
      return try fitter.run(source, checkBeforeReading: checkBeforeReading, prepared: prepared, progress: progress)
    } catch {
      // What every process meets alike (a divergence, say) is process 0's to report.
      var error = error
      if group.rank != 0 && !error.fromAgreement { error.reportedByAnotherProcess = true }
      throw error
    }
  }
}

/// The steps of a fit, with the options at hand.
struct Fitter {
  typealias Options = TabularModel.FitOptions
  let options: Options
  let group: any ProcessGroup
  /// What happened to the data cache (entries rebuilt or removed).
  let cacheLog = CacheLog()

  init(options: Options, group: any ProcessGroup) {
    self.options = options
    self.group = group
  }

  typealias Loaded = (
    table: TableSummary, classes: ClassLabels, split: (train: [Int], test: [Int]), trainRows: [Int],
    validationRows: [Int]?, inner: (train: [Int], test: [Int])?, encoder: TabularEncoder, all: Dataset,
    notes: TabularEncoder.Notes
  )

  /// Whether the CSV file at `path` is read in a stream.
  func streams(_ path: String) -> Bool {
    switch options.streaming {
    case .always: return true
    case .never: return false
    case .automatic:
      if options.cacheFolder != nil { return true }
      let size = (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? 0
      return size >= TabularModel.streamingThreshold
    }
  }

  var markers: [String] { [""] + options.missingMarkers.filter { !$0.isEmpty } }

  /// Runs a network's training (`body`) in single-threaded BLAS when every
  /// layer has at most `Predictor.largestOrderedLayer` weights: BLAS rounds
  /// a product differently on one thread than on two, and the thread count
  /// is the process's (cross-validation's parallel folds set it to one), so
  /// a small network's fit is then the same bit for bit on any machine with
  /// the same BLAS kernels and beside any other work. Such products gain
  /// little from BLAS threads (`blasnet-bench --tables`, 2 cores: the same
  /// total time within the noise). Larger networks keep the threads.
  static func training<R, E: Error>(_ sizes: [Int], _ body: () throws(E) -> R) throws(E) -> R {
    try TabularModel.trainsOnOneBLASThread(sizes) ? BLAS.singleThreaded(body) : body()
  }

  /// The fit, stage by stage: each stage is a function of what the stages
  /// before it made and returns its own result as a value (`Read`,
  /// `Output`, `Preprocessed`, `Setup`, the trained `Member`s, `Assembled`),
  /// so that a stage can be read, tested and changed on its own.
  func run(
    _ source: TableSource, checkBeforeReading: (() throws(TableError) -> Void)?,
    prepared: ((TabularModel.Preparation) -> Void)?, progress: ((TrainingProgress) -> TrainingControl)?
  ) throws(TableError) -> TabularModel.FitReport {
    try checkOptions(source)
    let reporter = group.rank == 0
    let read = try read(source, checkBeforeReading: checkBeforeReading)
    let output = try output(of: read)
    let data = try preprocess(read, output)
    let setup = try setUp(read, output, data)
    if reporter { prepared?(setup.preparation) }
    let inputs = try trainingInputs(read, data, setup)
    let started = ContinuousClock.now
    let members = try Self.each(options.ensembleSize, inParallel: group.size == 1) { k throws(TableError) in
      try trainNetwork(k, inputs, progress: reporter ? progress : nil)
    }
    let trainingTime = ContinuousClock.now - started
    var (model, heldOut) = assemble(members, read, output, data)
    let refit = members[0].refit.map { ($0.rows, $0.epochs, members.map { $0.refit!.time }.reduce(.zero, +)) }
    // The calibration and a threshold target are fitted on the validation
    // rows as the networks that did not learn from them predict them (the
    // early-stopped ones, the saved ones when there is no refit), out of
    // sample, then given to the saved model.
    // (Process 0 alone calibrates and measures; every process sets a fixed threshold.)
    let calibrationNote =
      reporter ? try calibrate(&heldOut, on: data.validation, classes: data.classes, refit: refit != nil) : nil
    let thresholdNote = try chooseThreshold(&heldOut, on: reporter ? data.validation : nil, refit: refit != nil)
    (model.calibrator, model.threshold) = (heldOut.calibrator, heldOut.threshold)
    let sets =
      [("train", data.train)] + (data.validation.map { [("validation", $0)] } ?? [])
      + (options.testData == nil && data.test.count > 0 ? [("test", data.test)] : [])
    let metrics = reporter ? try measure(model, sets, heldOut: refit != nil ? heldOut : nil) : []
    // (Every network's allreduce calls, and whether each ended the same on every process.)
    let allreduce = members.map(\.allreduce).reduce((calls: 0, time: Duration.zero, agree: true)) {
      ($0.calls + $1.calls, $0.time + $1.time, $0.agree && $1.agree)
    }
    return TabularModel.FitReport(
      model: model, preparation: setup.preparation,
      history: members[0].history, histories: members.map(\.history), trainingTime: trainingTime, metrics: metrics,
      thresholdNote: thresholdNote,
      calibrationNote: calibrationNote, refit: refit,
      allreduceCalls: allreduce.calls, allreduceTime: allreduce.time, replicasAgree: allreduce.agree,
      test: try options.testData.map { p throws(TableError) in
        reporter ? try Dataset.forModel(path: p, model: model, requireLabel: true) : data.test
      } ?? data.test)
  }
}

// MARK: - The stages

extension Fitter {
  /// The table as read: split, its encoder fitted on the training rows and
  /// every row encoded (`Loaded`); the file, when it was streamed; the time
  /// reading took.
  struct Read {
    var loaded: Loaded
    var streamedPath: String?
    var time: Duration
    var path: String { loaded.table.path }
  }

  /// Reads `source` (a streamed file shared by several processes: process 0
  /// first, writing the cache the others then read) and checks that every
  /// process read the same.
  func read(_ source: TableSource, checkBeforeReading: (() throws(TableError) -> Void)?) throws(TableError) -> Read {
    let reporter = group.rank == 0
    let started = ContinuousClock.now
    var streamedPath: String?
    if case .csvFile(let path) = source, streams(path) { streamedPath = path }
    var built: Loaded?
    if let path = streamedPath, group.size > 1 {
      // Process 0 reads the file and writes the cache; the others then read the cache.
      _ = try ProcessFailure.agree(group) { () throws(TableError) in
        if reporter {
          try checkBeforeReading?()
          built = try loadStreaming(path, mayBuild: true)
        }
      }
    }
    let loaded = try ProcessFailure.agree(group) { () throws(TableError) -> Loaded in
      if let built { return built }
      if reporter && !(streamedPath != nil && group.size > 1) { try checkBeforeReading?() }
      switch source {
      case .npy(let x, let y, let examplesAsRows): return try loadArrays(x: x, y: y, examplesAsRows: examplesAsRows)
      case .csvFile(let path):
        return streamedPath != nil ? try loadStreaming(path, mayBuild: reporter) : try load(try CSVFile(path: path))
      case .csvData(let data, let name): return try load(try CSVFile(path: name, bytes: Array(data)))
      case .rows(let header, let rows, let name): return try load(try CSVFile(path: name, header: header, rows: rows))
      }
    }
    let time = ContinuousClock.now - started
    if group.size > 1 { try ReplicaCheck.agree(group, fingerprint(loaded), file: loaded.table.path) }
    return Read(loaded: loaded, streamedPath: streamedPath, time: time)
  }

  /// What the network's output is: one linear unit (a regression), one
  /// sigmoid (two classes) or a softmax over the classes.
  struct Output {
    var regression: Bool
    var binary: Bool
    /// The output layer's units.
    var units: Int
    var activation: Activation { regression ? .identity : binary ? .sigmoid : .softmax }
  }

  /// The output the label asks for; the options that only suit two classes,
  /// and splits too small to hold out what the options ask, are refused here.
  func output(of read: Read) throws(TableError) -> Output {
    let (table, classes, split, inner) = (read.loaded.table, read.loaded.classes, read.loaded.split, read.loaded.inner)
    let regression = options.task == .regression
    if !regression { try classes.checkCount(table) }
    let binary = !regression && classes.count == 2
    if !binary && options.threshold != .standard {
      throw TableError(
        "a decision threshold is for two classes; the label \"\(table.labelName)\" has \(classes.count) (the class with the highest probability is predicted)"
      )
    }
    if !binary, let method = options.calibration, method != .temperature {
      throw TableError(
        "\(Setting.calibration.named(method.rawValue)) calibrates two classes; the label \"\(table.labelName)\" has \(classes.count): use \(Setting.calibration.named("temperature"))"
      )
    }
    if split.train.isEmpty || (split.test.isEmpty && options.testData == nil && options.testFraction > 0) {
      throw TableError(
        "\(read.path): \(table.count) examples are too few to hold out \(Int(options.testFraction * 100)) % for testing"
      )
    }
    if let inner, inner.train.isEmpty || inner.test.isEmpty {
      throw TableError(
        "\(read.path): \(split.train.count) training examples are too few to hold out \(Int(options.validationFraction * 100)) % for validation; use \(Setting.validationFraction.named(0))"
      )
    }
    return Output(regression: regression, binary: binary, units: binary || regression ? 1 : classes.count)
  }

  /// The rows of each split and what is fitted on the training rows before
  /// the network: the classes' weights, a regression's target scale, the
  /// standardisation (quantile maps included) and the piecewise-linear
  /// encoding.
  struct Preprocessed {
    var train: Dataset
    var validation: Dataset?
    var test: Dataset
    var classes: ClassLabels
    var classWeights: [Double]?
    /// A regression's target scale: it trains on the label standardised
    /// with the training split's mean and deviation.
    var target: TargetScale?
    var scaler: Standardizer
    var encoding: PiecewiseLinearEncoding?

    /// The network's targets for the rows of `data`: the classes one-hot
    /// (or 0/1), or the standardised label.
    func targets(_ data: Dataset) throws(TableError) -> Matrix<Float> {
      guard let target else { return classes.targets(data.labels!) }
      return Matrix(row: try data.targetValues().map { Float(($0 - target.mean) / target.standardDeviation) })
    }
  }

  /// Fits the preprocessing on the training rows (and checks, with several
  /// processes, that each fitted the same standardisation).
  func preprocess(_ read: Read, _ output: Output) throws(TableError) -> Preprocessed {
    let loaded = read.loaded
    let train = loaded.all.subset(loaded.trainRows)
    let classes = loaded.classes
    let weights = output.regression ? nil : try classes.weights(options.classWeights, training: train.labels!)
    let target =
      output.regression
      ? try Self.targetScale(try train.targetValues(), file: read.path, label: loaded.table.labelName) : nil
    var data = Preprocessed(
      train: train, validation: loaded.validationRows.map { loaded.all.subset($0) },
      test: loaded.all.subset(loaded.split.test), classes: classes, classWeights: weights, target: target,
      scaler: train.standardizer(loaded.encoder, quantileMaps: options.scaling == .quantile), encoding: nil)
    // (The closure reads a copy of `data`, taken before the encoding is set.)
    data.encoding = try piecewiseLinear(train, data.scaler, loaded.encoder) { [data] d throws(TableError) in
      try data.targets(d)
    }
    if group.size > 1 {
      // Equal data make equal standardisations; this checks the arithmetic too.
      let parameters = (data.scaler.means + data.scaler.standardDeviations).withUnsafeBytes { Checksum.of($0) }
      try ReplicaCheck.agree(group, [.init(name: "standardisation", values: [parameters])], file: read.path)
    }
    return data
  }

  /// The network before training, the training plan (epochs, batch size,
  /// early stopping, λ) and options, and what the fit tells its caller
  /// before it trains (``TabularModel/Preparation``).
  struct Setup {
    var sizes: [Int]
    var plan: TabularModel.TrainingPlan
    var network: Network<Float>
    var training: TrainingOptions
    var preparation: TabularModel.Preparation
  }

  /// The network's sizes and the plan for the training rows; refuses a
  /// network that would not fit in the memory available.
  func setUp(_ read: Read, _ output: Output, _ data: Preprocessed) throws(TableError) -> Setup {
    let loaded = read.loaded
    let sizes = [data.encoding?.outputCount ?? loaded.encoder.width] + options.hiddenLayers + [output.units]
    let plan = TabularModel.TrainingPlan.automatic(trainingExamples: data.train.count, options: options)
    let memory = TrainingMemory(
      sizes: sizes, batchSize: plan.batchSize, optimizer: options.optimizer,
      dropout: plan.keepProbability < 1)
    if let available = availableMemory(), memory.total > available {
      throw TableError(
        "the network \(sizes.map(String.init).joined(separator: " → ")) needs about \(memory) to train, but \(TrainingMemory.format(available)) of memory is available; use smaller \(Setting.hiddenLayers.named) (or a smaller \(Setting.batchSize.named))"
      )
    }
    let network = Network<Float>(
      sizes: sizes, hiddenActivation: options.hiddenActivation, outputActivation: output.activation,
      seed: options.seed)
    let preparation = TabularModel.Preparation(
      source: read.path, exampleCount: loaded.all.count, labelName: loaded.table.labelName,
      ignoredColumns: loaded.table.ignored, encoder: loaded.encoder, notes: loaded.notes,
      classNames: output.regression ? [] : loaded.classes.names, target: data.target,
      trainCount: data.train.count,
      validationCount: data.validation?.count,
      testCount: try options.testData.map { p throws(TableError) in
        try CSVFile(path: p).records.count
      } ?? data.test.count, classWeights: data.classWeights,
      network: network, ensembleSize: options.ensembleSize, piecewiseLinear: data.encoding, plan: plan,
      cacheFolder: read.streamedPath.map { DataCache.folder(for: $0, options.cacheFolder) },
      readingTime: read.time, cacheNotes: cacheLog.notes, processCount: group.size)
    let training = TrainingOptions(
      epochs: plan.epochs, optimizer: options.optimizer, batchSize: plan.batchSize, l2: plan.l2,
      keepProbability: plan.keepProbability,
      loss: output.regression ? (options.regressionLoss == .huber ? .huber : .meanSquaredError) : nil,
      seed: options.seed, recordCostEvery: Swift.max(1, plan.epochs / 100), earlyStopping: plan.earlyStopping)
    return Setup(sizes: sizes, plan: plan, network: network, training: training, preparation: preparation)
  }

  /// What every network trains from (the training rows in memory as the
  /// network takes them, made once); checks that λ is not so large that
  /// the penalty alone outweighs the data's cost.
  func trainingInputs(_ read: Read, _ data: Preprocessed, _ setup: Setup) throws(TableError) -> TrainingInputs {
    let (train, scaler, encoding, plan) = (data.train, data.scaler, data.encoding, setup.plan)
    let yTrain = try data.targets(train)
    var xTrain = Matrix<Float>.zeros(0, 0)
    if train.mapped == nil {
      let scaled = scaler.transform(train.x)
      xTrain = encoding?.encode(scaled) ?? scaled
      try checkL2(network: setup.network, x: xTrain, y: yTrain, l2: plan.l2)
    } else if plan.l2 > 0 {
      // Mapped rows: the first few thousand training examples and their labels.
      let sample = train.sample(scaler)
      try checkL2(
        network: setup.network, x: encoding?.encode(sample) ?? sample,
        y: DataSplit.columns(yTrain, Array(0..<sample.columns)), l2: plan.l2)
    }
    let exampleWeights: Matrix<Float>? = data.classWeights.map {
      DataSplit.exampleWeights(classIndices: data.classes.indices(train.labels!), classWeights: $0)
    }
    let loaded = read.loaded
    return TrainingInputs(
      all: loaded.all, train: train, validation: data.validation, trainRows: loaded.trainRows,
      validationRows: loaded.validationRows, x: xTrain, y: yTrain, exampleWeights: exampleWeights,
      yValidation: try data.validation.map { v throws(TableError) in try data.targets(v) },
      encoder: loaded.encoder, scaler: scaler, encoding: encoding, classes: data.classes,
      classWeights: data.classWeights, targets: { d throws(TableError) in try data.targets(d) }, sizes: setup.sizes,
      training: setup.training, initial: setup.network)
  }

  /// The model of the trained networks (after a refit, with the
  /// standardisation and encoding the refit fitted), and the model of
  /// their early-stopped forms, which the validation rows measure.
  func assemble(_ members: [Member], _ read: Read, _ output: Output, _ data: Preprocessed) -> (
    model: TabularModel, heldOut: TabularModel
  ) {
    let loaded = read.loaded
    func model(_ networks: [Network<Float>], _ scaler: Standardizer, _ encoding: PiecewiseLinearEncoding?)
      -> TabularModel
    {
      var model = TabularModel(
        network: networks[0], encoder: loaded.encoder, standardizer: scaler, labelName: loaded.table.labelName,
        classNames: output.regression ? nil : loaded.classes.names, threshold: nil, target: data.target,
        piecewiseLinear: encoding)
      model.networks = networks
      return model
    }
    return (
      model(members.map(\.network), members[0].scaler, members[0].encoding),
      model(members.map(\.earlyStopped), data.scaler, data.encoding)
    )
  }
}

extension Fitter {
  /// A network of the model, trained: the refit's when there was one
  /// (`refit`), else the early-stopped one; the standardisation and
  /// encoding it takes (refitted on every row for a refit from the start).
  struct Member: Sendable {
    var network: Network<Float>
    var earlyStopped: Network<Float>
    var history: TrainingHistory
    var scaler: Standardizer
    var encoding: PiecewiseLinearEncoding?
    var allreduce: (calls: Int, time: Duration, agree: Bool)
    var refit: (rows: Int, epochs: Int, time: Duration)?
  }

  /// The seed of an ensemble's network `k`: the options' own for the first,
  /// so that a model of one network is fitted as before.
  static func memberSeed(_ seed: UInt64, _ k: Int) -> UInt64 {
    k == 0 ? seed : seed &+ UInt64(k) &* 0x9E37_79B9_7F4A_7C15
  }

  /// What every network of a fit learns from: the rows (the training rows
  /// encoded, standardised and labelled, made once), the fitted scaling and
  /// bins, the training options, the first network's initial weights.
  struct TrainingInputs {
    var all: Dataset
    var train: Dataset
    var validation: Dataset?
    var trainRows: [Int]
    var validationRows: [Int]?
    /// The training rows as the network takes them (empty for mapped rows), their targets and weights.
    var x: Matrix<Float>
    var y: Matrix<Float>
    var exampleWeights: Matrix<Float>?
    var yValidation: Matrix<Float>?
    var encoder: TabularEncoder
    var scaler: Standardizer
    var encoding: PiecewiseLinearEncoding?
    var classes: ClassLabels
    var classWeights: [Double]?
    var targets: (Dataset) throws(TableError) -> Matrix<Float>
    var sizes: [Int]
    var training: TrainingOptions
    var initial: Network<Float>
  }

  /// Network `k` of the model: trained (from `inputs.initial` for the
  /// first, from its own seed's weights for the others), early-stopped on
  /// the validation rows, then refit on every row (`options.refit`).
  func trainNetwork(
    _ k: Int, _ inputs: TrainingInputs, progress: ((TrainingProgress) -> TrainingControl)?
  ) throws(TableError) -> Member {
    let (train, validation, scaler, encoding) = (inputs.train, inputs.validation, inputs.scaler, inputs.encoding)
    let (sizes, output) = (inputs.sizes, inputs.initial.outputActivation)
    let seed = Self.memberSeed(options.seed, k)
    var network =
      k == 0
      ? inputs.initial
      : Network<Float>(
        sizes: sizes, hiddenActivation: options.hiddenActivation,
        outputActivation: output, seed: seed)
    var memberOptions = inputs.training
    memberOptions.seed = seed
    let history: TrainingHistory
    var allreduce = (calls: 0, time: Duration.zero, agree: true)
    do {
      var trainer = try Trainer(network: network, options: memberOptions)
      history = try Self.training(sizes) { () throws(TrainingError) in
        try trainer.fit(
          labelled(train, scaler, encoding, inputs.y, weights: inputs.exampleWeights, inputs: inputs.x),
          validation: validation.map { labelled($0, scaler, encoding, inputs.yValidation!) }, group: group,
          progress: k == 0 ? progress : nil)
      }
      network = trainer.network
      if group.size > 1 {
        allreduce = (trainer.allreduceCalls, trainer.allreduceTime, trainer.parametersAgree(group))
      }
    } catch .diverged(let epoch, let batch, let cost, let initialCost) {
      let place = batch.map { "batch \($0) of epoch \(epoch)" } ?? "epoch \(epoch)"
      let rate = options.optimizer.learningRate
      let member = options.ensembleSize > 1 ? " (network \(k + 1) of \(options.ensembleSize))" : ""
      throw TableError(
        "training diverged at \(place)\(member) (cost \(format(cost, 4)), first \(format(initialCost, 4))): lower \(Setting.learningRate.named) (now \(rate)) or \(Setting.l2.named) (now \(inputs.training.l2)); nothing was saved"
      )
    } catch {
      throw TableError("\(error)")
    }
    var member = Member(
      network: network, earlyStopped: network, history: history, scaler: scaler, encoding: encoding,
      allreduce: allreduce)
    guard options.refit, validation != nil, let validationRows = inputs.validationRows else { return member }
    let refitStarted = ContinuousClock.now
    // The epochs of the network kept: the best epoch's when its weights were restored.
    let epochs = history.restoredBestWeights ? history.bestEpoch ?? history.epochsRun : history.epochsRun
    let whole = inputs.all.subset(inputs.trainRows + validationRows)
    let continued = options.refitStart == .continued
    if !continued {
      member.scaler = whole.standardizer(inputs.encoder, quantileMaps: options.scaling == .quantile)
      member.encoding = try piecewiseLinear(whole, member.scaler, inputs.encoder, inputs.targets)
    }
    let wholePlan = TabularModel.TrainingPlan.automatic(trainingExamples: whole.count, options: options)
    var again = memberOptions
    again.epochs =
      continued ? Swift.max(1, Int((Double(epochs) * TabularModel.RefitStart.continuedShare).rounded())) : epochs
    again.earlyStopping = nil
    again.batchSize = wholePlan.batchSize
    again.l2 = wholePlan.l2
    again.recordCostEvery = Swift.max(1, again.epochs / 100)
    let weights: Matrix<Float>? = inputs.classWeights.map {
      DataSplit.exampleWeights(classIndices: inputs.classes.indices(whole.labels!), classWeights: $0)
    }
    let labels = try inputs.targets(whole)
    do {
      let start =
        continued
        ? network
        : Network<Float>(
          sizes: [member.encoding?.outputCount ?? inputs.encoder.width] + sizes.dropFirst(),
          hiddenActivation: options.hiddenActivation,
          outputActivation: output, seed: seed)
      var trainer = try Trainer(network: start, options: again)
      _ = try Self.training(start.sizes) { () throws(TrainingError) in
        try trainer.fit(
          labelled(whole, member.scaler, member.encoding, labels, weights: weights), validation: nil,
          group: group)
      }
      member.network = trainer.network
    } catch {
      throw TableError("training again on the \(whole.count) training and validation rows failed: \(error)")
    }
    member.refit = (whole.count, again.epochs, ContinuousClock.now - refitStarted)
    return member
  }

  /// `body(0)`, …, `body(count − 1)`, in order; at the same time over the
  /// cores when `inParallel` and `count` > 1 (each with one BLAS thread, so
  /// every result is the one a call alone gives). The first error, by `k`, is thrown.
  static func each<R: Sendable>(
    _ count: Int, inParallel: Bool, _ body: (Int) throws(TableError) -> R
  ) throws(TableError) -> [R] {
    if !inParallel || count <= 1 || activeCores <= 1 {
      var results: [R] = []
      for k in 0..<count { results.append(try body(k)) }
      return results
    }
    return try Parallel.results(count, inParallel: true, body).map { r throws(TableError) in try r.get() }
  }
}

/// Calls spread over the cores, for the fit and for prediction alike.
enum Parallel {
  /// `body(k)` for every k in `0..<count`, each call's result or error in
  /// order of k: on up to as many threads as there are cores when
  /// `inParallel` (OpenBLAS on one thread meanwhile), else in turn (all
  /// of them, past an error). The calls share what they read and write
  /// only their results, which go to the caller once every call is over.
  static func results<R, E: Error>(
    _ count: Int, inParallel: Bool, _ body: (Int) throws(E) -> R
  ) -> [Result<R, E>] {
    let workers = inParallel ? Swift.min(count, activeCores) : 1
    if workers <= 1 {
      return (0..<count).map { k in Result { () throws(E) in try body(k) } }
    }
    let results = Mutex([UncheckedBox<Result<R, E>>?](repeating: nil, count: count))
    withoutActuallyEscaping(body) { body in
      let shared = UncheckedBox(body)
      BLAS.singleThreaded {
        DispatchQueue.concurrentPerform(iterations: workers) { w in
          for k in stride(from: w, to: count, by: workers) {
            let result = UncheckedBox(Result { () throws(E) in try shared.value(k) })
            results.withLock { $0[k] = result }
          }
        }
      }
    }
    return results.withLock { $0 }.map { $0!.value }
  }

  /// A value handed to concurrent calls that only read it.
  struct UncheckedBox<T>: @unchecked Sendable {
    let value: T
    init(_ value: T) { self.value = value }
  }
}

extension Fitter {
  /// Fits `options.calibration`, if any, on the validation rows into
  /// `model` (the networks that did not learn from them; `refit`: not the
  /// ones saved); says what it did (nil: nothing to do).
  func calibrate(_ model: inout TabularModel, on validation: Dataset?, classes: ClassLabels, refit: Bool)
    throws(TableError) -> String?
  {
    guard let method = options.calibration, let validation else { return nil }
    let p = try Evaluation(model: model).probabilities(validation)
    let labels = classes.indices(validation.labels!)
    switch method {
    case .platt: model.calibrator = .fitPlatt(positiveProbabilities: p.elements, positive: labels.map { $0 == 1 })
    case .isotonic:
      model.calibrator = .fitIsotonic(positiveProbabilities: p.elements, positive: labels.map { $0 == 1 })
    case .temperature: model.calibrator = .fitTemperature(probabilities: p, classes: labels)
    }
    let before = TabularModel.SplitMetrics(name: "", outputs: p, classes: labels, threshold: 0.5).calibration!
    let after = try Evaluation(model: model).metrics(name: "", validation).calibration!
    return
      "\(method.rawValue) fitted on the \(validation.count) validation rows\(refit ? Self.beforeTheRefit : ""): there the expected calibration error went from \(format(before.expectedCalibrationError, 4)) to \(format(after.expectedCalibrationError, 4)), the Brier score from \(format(before.brierScore, 4)) to \(format(after.brierScore, 4))"
  }

  /// How a calibration's or a threshold's note says where the validation
  /// rows' predictions came from when the saved networks learnt from them.
  static let beforeTheRefit = " as predicted before the refit"

  /// Sets `model`'s threshold as `options.threshold` says (a target
  /// sensitivity or specificity: chosen on the validation rows, `refit` as
  /// in ``calibrate(_:on:classes:refit:)``); says how.
  func chooseThreshold(_ model: inout TabularModel, on validation: Dataset?, refit: Bool) throws(TableError)
    -> String
  {
    switch options.threshold {
    case .standard: return "the default"
    case .fixed(let t):
      model.threshold = t
      return "given in the options"
    case .targetSensitivity(let target), .targetSpecificity(let target):
      let bySensitivity: Bool
      if case .targetSensitivity = options.threshold { bySensitivity = true } else { bySensitivity = false }
      guard let validation else { return "the default" }
      let point = try Evaluation(model: model).operatingPoint(
        on: validation, target: target, bySensitivity: bySensitivity)
      model.threshold = point.threshold
      return
        "chosen for \(bySensitivity ? "sensitivity" : "specificity") ≥ \(target) on the validation split\(refit ? Self.beforeTheRefit : ""): there sensitivity \(format(point.sensitivity, 4)), specificity \(format(point.specificity, 4))"
    }
  }

  /// The metrics of `model` on each named set of rows (intervals for the
  /// rows it did not train on; after a refit, the validation rows measure
  /// `heldOut`, the network that did not learn from them), then on the
  /// test file, if there is one.
  func measure(_ model: TabularModel, _ sets: [(String, Dataset)], heldOut: TabularModel?) throws(TableError)
    -> [TabularModel.SplitMetrics]
  {
    var metrics: [TabularModel.SplitMetrics] = []
    for (name, data) in sets {
      let resamples = name == "train" ? 0 : options.bootstrap
      let measured = Evaluation(model: name == "validation" ? heldOut ?? model : model)
      metrics.append(try measured.metrics(name: name, data, bootstrap: resamples, seed: options.seed))
    }
    if let path = options.testData {
      var measured = try model.evaluate(csvFile: path, bootstrap: options.bootstrap, seed: options.seed).metrics
      measured.name = "test"
      metrics.append(measured)
    }
    return metrics
  }

  /// The rows of `data` as the trainer reads them, standardised by
  /// `scaler` and encoded by `encoding`: batch by batch from a mapped file
  /// (as they are read), or in memory (`x`, when given, is `data.x`
  /// standardised and encoded already).
  func labelled(
    _ data: Dataset, _ scaler: Standardizer, _ encoding: PiecewiseLinearEncoding?, _ labels: Matrix<Float>,
    weights: Matrix<Float>? = nil, inputs x: Matrix<Float>? = nil
  ) -> LabelledExamples<Float> {
    if let rows = data.mapped {
      let scaled = StandardizedExamples(rows.source, standardizer: scaler)
      guard let encoding else { return LabelledExamples(scaled, labels: labels, weights: weights) }
      return LabelledExamples(PiecewiseLinearExamples(scaled, encoding: encoding), labels: labels, weights: weights)
    }
    if let x { return LabelledExamples(x, labels: labels, weights: weights) }
    let scaled = scaler.transform(data.x)
    return LabelledExamples(encoding?.encode(scaled) ?? scaled, labels: labels, weights: weights)
  }

  /// The piecewise-linear encoding of ``FitOptions/piecewiseLinearBins``
  /// fitted on the standardised numeric inputs of `data` (at most
  /// ``Dataset/quantileSample`` of its examples, evenly spaced) and, for
  /// edges where the label changes, their `targets`; nil when it is off.
  func piecewiseLinear(
    _ data: Dataset, _ scaler: Standardizer, _ encoder: TabularEncoder,
    _ targets: (Dataset) throws(TableError) -> Matrix<Float>
  ) throws(TableError) -> PiecewiseLinearEncoding? {
    let bins = options.bins(trainingRows: data.count, numericInputs: encoder.measuredInputs.filter { $0 }.count)
    guard bins > 0 else { return nil }
    switch options.binEdges {
    case .quantiles:
      return PiecewiseLinearEncoding(
        fitting: scaler.transform(data.evenlySpaced(Dataset.quantileSample)), encoded: encoder.measuredInputs,
        bins: bins)
    case .target:
      let rows = data.evenlySpacedRows(Dataset.quantileSample)
      let sample = rows.count == data.count ? data : data.subset(rows)
      return PiecewiseLinearEncoding(
        fitting: scaler.transform(sample.evenlySpaced(sample.count)), targets: try targets(sample),
        encoded: encoder.measuredInputs, bins: bins,
        minimumLeaf: Swift.max(1, sample.count / (4 * bins)))
    }
  }

  /// What the processes of a group compare before training: the example
  /// count, the labels, the encoded values (of data read in memory; mapped
  /// rows all come from process 0's cache) and the fitted encoding.
  func fingerprint(_ loaded: Loaded) -> [ReplicaCheck.Part] {
    let all = loaded.all
    let m = all.count
    var labels: [UInt64] = []
    var values: [UInt64] = []
    for k in 0..<ReplicaCheck.blocks {
      let examples = ReplicaCheck.block(k, of: m)
      if let mapped = all.mapped {
        // Codes and names rather than a string per row (millions of rows).
        let names = Checksum.of(mapped.labels.names)
        let codes = examples.map { mapped.labels.codes[mapped.row($0)] }
        labels.append(codes.withUnsafeBytes { Checksum.of($0, seed: names) })
        // Every process maps its own file (or its own copy of the cache): read it.
        var hash: UInt64 = 0
        var chunk = Matrix<Float>.zeros(0, 0)
        for start in stride(from: examples.lowerBound, to: examples.upperBound, by: 8192) {
          let end = Swift.min(start + 8192, examples.upperBound)
          if chunk.columns != end - start { chunk = .zeros(mapped.examples.featureCount, end - start) }
          mapped.examples.gatherExamples((start..<end).map(mapped.row)[...], into: &chunk)
          hash = chunk.withUnsafeBufferPointer { Checksum.of(UnsafeRawBufferPointer($0), seed: hash) }
        }
        values.append(hash)
      } else {
        labels.append(Checksum.of(Array((all.textLabels ?? [])[examples])))
        let f = all.x.rows
        values.append(
          all.x.withUnsafeBufferPointer {
            Checksum.of(
              UnsafeRawBufferPointer(
                UnsafeBufferPointer(rebasing: $0[(examples.lowerBound * f)..<(examples.upperBound * f)])))
          })
      }
    }
    return [
      .init(name: "examples", values: [UInt64(m)]), .init(name: "labels", values: labels, perBlock: true),
      .init(name: "encoded values", values: values, perBlock: true),
      .init(name: "column encodings", values: [Checksum.of(Array(loaded.encoder.json()))]),
    ]
  }

  /// Refuses options that cannot work, before anything is read.
  func checkOptions(_ source: TableSource) throws(TableError) {
    let o = options
    func require(_ ok: Bool, _ message: @autoclosure () -> String) throws(TableError) {
      if !ok { throw TableError(message()) }
    }
    try o.validate()
    if o.testData != nil, case .npy = source {
      throw TableError("a test file is a CSV table; .npy arrays take their test split from X")
    }
    if o.task == .regression {
      if case .npy = source {
        throw TableError(
          "\(Setting.task.named("regression")) reads a CSV table; .npy arrays train classifiers only (for now)")
      }
      if case .csvFile(let path) = source, streams(path) {
        throw TableError(
          "\(Setting.task.named("regression")) reads the table in memory; \(path) would be streamed (\(Setting.streaming.named), \(Setting.cacheFolder.named), or a file of \(TabularModel.streamingThreshold >> 20) MiB or more), which keeps labels as classes"
        )
      }
    }
    if case .npy = source {
      try require(
        // The default fill (the median) is no fill for arrays, whose NaNs are refused.
        o.label == nil && o.ignoredColumns.isEmpty && (o.missing == .median || o.missing == .error),
        "a label column, ignored columns and missing values are for CSV columns; .npy arrays are numbers")
    }
  }

  /// The table read and encoded: the classes, the split, the encoder
  /// fitted on the training rows and every row encoded. The CSV file's
  /// bytes and field ranges are freed when this returns.
  func load(_ csv: CSVFile) throws(TableError) -> Loaded {
    var table = try TrainingTable(csv: csv, label: options.label, ignore: options.ignoredColumns, markers: markers)
    if options.task == .regression { try table.checkNumericLabels() }
    let (classes, split, trainRows, validationRows, inner) = try splitRows(
      LabelColumn(table.labels), labelName: table.labelName)
    // Text columns with a different value in (nearly) every training row are left out, with a note.
    let identifiers = TabularEncoder.identifierColumns(
      csv, columns: table.featureColumns, names: table.featureColumns.map { csv.header[$0] }, trainingRows: trainRows,
      maxCategories: options.maxCategories, missingMarkers: markers
    ).map(\.identifier)
    if !identifiers.isEmpty {
      table = try TrainingTable(
        csv: csv, label: options.label, ignore: options.ignoredColumns + identifiers.map(\.name), markers: markers)
    }
    // Everything the encoder and the scaler learn comes from the training
    // rows. Every field is checked here, before the class count.
    var (encoder, all, notes) = try table.fitAndEncode(
      trainingRows: trainRows, missing: options.missing, maxCategories: options.maxCategories,
      missingIndicators: options.missingIndicators)
    notes.identifiers = identifiers
    return (TableSummary(table), classes, split, trainRows, validationRows, inner, encoder, all, notes)
  }

  /// The classes of `labels`, and the stratified split: test rows, then
  /// the validation rows out of the training split (never the test split).
  func splitRows(_ labels: LabelColumn, labelName: String) throws(TableError) -> (
    classes: ClassLabels, split: (train: [Int], test: [Int]), trainRows: [Int], validationRows: [Int]?,
    inner: (train: [Int], test: [Int])?
  ) {
    let (classes, strata) = try self.strata(labels, labelName: labelName)
    var split: (train: [Int], test: [Int]) = (Array(labels.codes.indices), [])
    if options.testFraction > 0 && options.testData == nil && options.testRows == nil {
      split = DataSplit.trainTestIndices(
        count: labels.count, testFraction: options.testFraction, seed: options.seed, stratifyBy: strata)
    }
    if options.testData != nil {
      // The test rows come from their own file: every row here trains or validates.
      split = (Array(labels.codes.indices), [])
    } else if let testRows = options.testRows {
      // A cross-validation fold: its test rows, and every other row for training.
      var isTest = [Bool](repeating: false, count: labels.count)
      for r in testRows { isTest[r] = true }
      split = (labels.codes.indices.filter { !isTest[$0] }, testRows)
    }
    var trainRows = split.train
    var validationRows: [Int]?
    var inner: (train: [Int], test: [Int])?
    if options.validationFraction > 0 {
      let outer = split.train
      let part = DataSplit.trainTestIndices(
        count: outer.count, testFraction: options.validationFraction, seed: options.seed &+ 1,
        stratifyBy: outer.map { strata[$0] })
      validationRows = part.test.map { outer[$0] }
      trainRows = part.train.map { outer[$0] }
      inner = part
    }
    return (classes, split, trainRows, validationRows, inner)
  }

  /// The classes of `labels` and the stratum of each row: its class in
  /// sorted order, or for a regression its tenth of the target's range by rank.
  func strata(_ labels: LabelColumn, labelName: String) throws(TableError) -> (ClassLabels, [Int]) {
    if options.task == .regression {
      let values = labels.names.map { Double($0) ?? 0 }
      let order = labels.codes.indices.sorted { values[Int(labels.codes[$0])] < values[Int(labels.codes[$1])] }
      var rank = [Int](repeating: 0, count: labels.count)
      for (r, i) in order.enumerated() { rank[i] = r * 10 / Swift.max(1, labels.count) }
      return (ClassLabels(names: [labelName]), rank)
    }
    let classes = try ClassLabels(labels: labels.names, labelName: labelName, positive: options.positiveClass)
    let stratumOfCode = classes.strata(labels.names)
    return (classes, labels.codes.map { stratumOfCode[Int($0)] })
  }

  /// The mean and standard deviation of a regression's training labels.
  static func targetScale(_ values: [Double], file: String, label: String) throws(TableError) -> TargetScale {
    let n = Double(values.count)
    let mean = values.reduce(0, +) / n
    let sd = (values.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / n).squareRoot()
    guard sd > 0, sd.isFinite else {
      throw TableError(
        "\(file): the label column \"\(label)\" has one value (\(mean)) in the training split: there is nothing to regress"
      )
    }
    return TargetScale(mean: mean, standardDeviation: sd)
  }

  /// ``load(_:)`` for a file read in a stream: the rows' labels, the split,
  /// the encoder and the encoded rows from the cache, made first if they are
  /// not there (`mayBuild`) or not current.
  func loadStreaming(_ path: String, mayBuild: Bool) throws(TableError) -> Loaded {
    let cache = try DataCache(csv: path, folder: options.cacheFolder, limit: options.cacheLimit, log: cacheLog)
    if mayBuild {
      try cache.create()
      cache.removeAbandoned()
    }
    let rows = try StreamedRows.read(
      path: path, label: options.label, ignore: options.ignoredColumns, markers: markers, cache: cache,
      mayBuild: mayBuild)
    let table = TableSummary(path: path, labelName: rows.labelName, ignored: rows.ignored, count: rows.count)
    let (classes, split, trainRows, validationRows, inner) = try splitRows(rows.labels, labelName: rows.labelName)
    let (encoder, notes, examples) = try rows.encode(
      trainingRows: trainRows, missing: options.missing, maxCategories: options.maxCategories,
      missingIndicators: options.missingIndicators, cache: cache,
      mayBuild: mayBuild)
    let all = Dataset(
      file: path, featureNames: encoder.featureNames, labelName: rows.labelName, x: .zeros(0, 0), textLabels: nil,
      lines: [], columns: encoder.sourceColumns.map { rows.featureColumns[$0] + 1 },
      mapped: Dataset.MappedRows(examples: examples, rows: nil, labels: rows.labels, lines: rows.lines))
    return (table, classes, split, trainRows, validationRows, inner, encoder, all, notes)
  }

  /// ``load(_:)`` for `.npy` arrays: X mapped, Y read, every input a number.
  func loadArrays(x: String, y: String, examplesAsRows: Bool) throws(TableError) -> Loaded {
    let arrays = try NPYTable(x: x, y: y, examplesAsRows: examplesAsRows)
    try arrays.checkFinite()
    let m = arrays.labels.count
    let labelName = URL(fileURLWithPath: y).deletingPathExtension().lastPathComponent
    let table = TableSummary(path: x, labelName: labelName, ignored: [], count: m)
    let (classes, split, trainRows, validationRows, inner) = try splitRows(arrays.labels, labelName: labelName)
    let encoder = TabularEncoder(numericColumns: (1...arrays.examples.featureCount).map { "x\($0)" })
    let all = Dataset(
      file: x, featureNames: encoder.featureNames, labelName: labelName, x: .zeros(0, 0), textLabels: nil,
      lines: [], columns: Array(1...encoder.width),
      mapped: Dataset.MappedRows(
        examples: arrays.examples, rows: nil, labels: arrays.labels, lines: (1...Int32(clamping: m)).map { $0 }))
    return (table, classes, split, trainRows, validationRows, inner, encoder, all, TabularEncoder.Notes())
  }

  /// Refuses an L2 λ so large that its penalty outweighs the data's cost
  /// a million times over at the start: training could then do nothing but
  /// shrink the weights towards zero (with Adam the cost stays astronomical
  /// but finite, so the divergence check would not see it).
  func checkL2(network: Network<Float>, x: Matrix<Float>, y: Matrix<Float>, l2: Double) throws(TableError) {
    guard l2 > 0 else { return }
    let dataCost = Double(network.cost(x: x, y: y))
    let squares = Double(Losses.l2Penalty(of: network, lambda: 2, examples: 1))
    let penalty = l2 * squares / (2 * Double(x.columns))
    if !(penalty <= 1e6 * Swift.max(dataCost, 1e-3)) {
      let balance = dataCost * 2 * Double(x.columns) / squares
      throw TableError(
        "\(Setting.l2.named(l2)) makes the L2 penalty at the start (\(String(format: "%.3g", penalty))) outweigh the data's cost (\(format(dataCost, 4))) more than a million times: training could only shrink the weights to zero; use a far smaller \(Setting.l2.named) (at \(String(format: "%.2g", balance)) the two are equal)"
      )
    }
  }
}
