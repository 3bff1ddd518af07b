import LinearAlgebra
import NeuralNetwork

/// The one place where label values become class indices and back: the
/// classes are the distinct label values, sorted; class k is `values[k]`.
/// Two classes train a sigmoid output (class 1 is the positive one), more a
/// softmax output.
struct ClassLabels {
  /// The label value of each class, ascending.
  let values: [Double]
  private let index: [Double: Int]

  init(values: [Double]) {
    self.values = values
    self.index = Dictionary(uniqueKeysWithValues: values.enumerated().map { ($1, $0) })
  }

  /// The classes of a training set: 2 to 100 distinct labels.
  init(training data: Dataset) throws(CLIError) {
    let values = Array(Set(data.labels!)).sorted()
    let name = data.labelName!
    if values.count < 2 {
      throw CLIError(
        "\(data.file): the label column \"\(name)\" has a single class (\(formatLabel(values[0]))); a classifier needs at least two"
      )
    }
    if values.count > 100 {
      throw CLIError(
        "\(data.file): the label column \"\(name)\" has \(values.count) distinct values; blasnet trains classifiers with 2 to 100 classes"
      )
    }
    self.init(values: values)
  }

  /// The classes a model was trained on (0, 1, … for a model file that names none).
  init(model: SavedModel) {
    self.init(values: model.classLabels ?? (0..<max(2, model.network.outputSize)).map(Double.init))
  }

  var count: Int { values.count }

  /// The class index of a label value, nil for a value that is not a class.
  func index(of label: Double) -> Int? { index[label] }

  /// The class index of each label; every label must be a class.
  func indices(_ labels: [Double]) -> [Int] { labels.map { index[$0]! } }

  /// The network's targets: 1 × m of 0/1 for two classes, one-hot K × m for more.
  func targets(_ labels: [Double]) -> Matrix<Float> {
    let k = indices(labels)
    if count == 2 { return Matrix(row: k.map(Float.init)) }
    return DataSplit.oneHot(k, classCount: count)
  }

  /// How class k is printed: `1` for 1.0, `2.5` for 2.5.
  func name(_ k: Int) -> String { formatLabel(values[k]) }

  /// The per-class weights that `--class-weight` asks for: nil for `none`;
  /// scikit-learn's `balanced` (m / (K · count) on the training part); or
  /// `CLASS=W,...`, classes not named weighing 1.
  func weights(_ option: String, training: Dataset) throws(CLIError) -> [Double]? {
    switch option.lowercased() {
    case "none": return nil
    case "balanced": return DataSplit.balancedClassWeights(classIndices: indices(training.labels!), classCount: count)
    default: break
    }
    var weights = [Double](repeating: 1, count: count)
    for part in option.split(separator: ",") {
      let pieces = part.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
      let names = (0..<count).map(name)
      guard pieces.count == 2, let k = names.firstIndex(of: pieces[0]) else {
        throw CLIError(
          "--class-weight: \(quoted(part)) is not CLASS=WEIGHT for one of the classes \(list(names)) (or use balanced or none)"
        )
      }
      guard let w = Double(pieces[1]), w >= 0, w.isFinite else {
        throw CLIError(
          "--class-weight: the weight of class \(pieces[0]) must be a number ≥ 0, got \(quoted(pieces[1]))")
      }
      weights[k] = w
    }
    return weights
  }
}
