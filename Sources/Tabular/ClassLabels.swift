import LinearAlgebra
import NeuralNetwork

/// The one place where label values become class indices and back.
///
/// The classes are the distinct labels: numbers when every label is one
/// (sorted by value, and `1`, `1.0` and `1e0` are the same class), text
/// otherwise (sorted as text). Two classes train a sigmoid output whose
/// positive class is class 1: by default the larger number or the second
/// name in sorted order, or the one `--positive-class` names. More classes
/// train a softmax output.
package struct ClassLabels {
  /// The name of each class, in output order.
  package let names: [String]
  /// Whether the classes are numbers (labels are then matched by value).
  package let numeric: Bool
  private let index: [String: Int]

  package init(names: [String]) {
    self.names = names
    self.numeric = names.allSatisfy { Double($0) != nil }
    self.index = Dictionary(uniqueKeysWithValues: names.enumerated().map { ($1, $0) })
  }

  /// The classes of a training table (``checkCount(_:)`` checks that there
  /// are 2 to 100 of them).
  package init(training table: TrainingTable, positive: String?) throws(TableError) {
    try self.init(labels: table.labels, labelName: table.labelName, positive: positive)
  }

  /// The classes of the labels of a training table (column `labelName`).
  package init(labels: [String], labelName name: String, positive: String?) throws(TableError) {
    // The distinct labels first: a table of millions of rows has few.
    let distinct = Set(labels)
    let numeric = distinct.allSatisfy { Double($0) != nil }
    var names: [String]
    if numeric {
      names = Set(distinct.map { TabularModel.className(Double($0)!) }).sorted { Double($0)! < Double($1)! }
    } else {
      names = distinct.sorted()
    }
    if let positive, names.count >= 2 {
      guard names.count == 2 else {
        throw TableError(
          "\(Setting.positiveClass.named): the label \"\(name)\" has \(names.count) classes; it is for two classes only"
        )
      }
      let key = numeric ? Double(positive).map(TabularModel.className) : positive
      guard let k = names.firstIndex(where: { $0 == key }) else {
        throw TableError("\(Setting.positiveClass.named): \(quoted(positive)) is not one of the classes \(list(names))")
      }
      if k == 0 { names.swapAt(0, 1) }
    }
    self.init(names: names)
  }

  /// Throws unless there are 2 to 100 classes (checked after the features,
  /// so that a bad field is reported before a count it may have caused).
  package func checkCount(_ table: TableSummary) throws(TableError) {
    let name = table.labelName
    if count < 2 {
      throw TableError(
        "\(table.path): the label column \"\(name)\" has a single class (\(names[0])); a classifier needs at least two")
    }
    // Many distinct numbers, or fractional ones, are a quantity rather than classes.
    let fractional = numeric && names.contains { Double($0)! != Double($0)!.rounded() }
    if numeric && (count > 100 || (count > 20 && fractional)) {
      throw TableError(
        "\(table.path): the label column \"\(name)\" has \(count) distinct numbers\(fractional ? ", not all whole" : ""): a quantity rather than classes? use \(Setting.task.named("regression")) to predict the number"
      )
    }
    if count > 100 {
      throw TableError(
        "\(table.path): the label column \"\(name)\" has \(count) distinct values; blasnet trains classifiers with 2 to 100 classes"
      )
    }
  }

  /// The classes a model was trained on (0, 1, … for a model file that names none).
  package init(model: TabularModel) {
    self.init(names: model.classNames ?? (0..<max(2, model.network.outputSize)).map(String.init))
  }

  package var count: Int { names.count }

  /// The class index of a label as it stands in a file, nil for one that is not a class.
  package func index(of label: String) -> Int? {
    if numeric, let v = Double(label) { return index[TabularModel.className(v)] }
    return index[label]
  }

  /// The class index of each label; every label must be a class.
  package func indices(_ labels: [String]) -> [Int] { labels.map { index(of: $0)! } }

  /// The strata of a stratified split: each label's class in sorted order,
  /// so that the split is the same whichever class is the positive one.
  package func strata(_ labels: [String]) -> [Int] {
    let sorted = numeric ? names.sorted { Double($0)! < Double($1)! } : names.sorted()
    let rank = names.map { sorted.firstIndex(of: $0)! }
    return indices(labels).map { rank[$0] }
  }

  /// The network's targets: 1 × m of 0/1 for two classes, one-hot K × m for more.
  package func targets(_ labels: [String]) -> Matrix<Float> {
    let k = indices(labels)
    if count == 2 { return Matrix(row: k.map(Float.init)) }
    return DataSplit.oneHot(k, classCount: count)
  }

  /// How class k is printed.
  package func name(_ k: Int) -> String { names[k] }

  /// The per-class weights of `choice`: nil for none; scikit-learn's
  /// `balanced` (m / (K · count) on the training part); or the named
  /// classes' weights, classes not named weighing 1.
  package func weights(_ choice: TabularModel.ClassWeights, training labels: [String]) throws(TableError)
    -> [Double]?
  {
    switch choice {
    case .none: return nil
    case .balanced: return DataSplit.balancedClassWeights(classIndices: indices(labels), classCount: count)
    case .byClass(let given):
      var weights = [Double](repeating: 1, count: count)
      for (name, w) in given.sorted(by: { $0.key < $1.key }) {
        guard let k = index(of: name) else {
          throw TableError(
            "\(Setting.classWeights.named): \(quoted("\(name)=\(TabularModel.className(w))")) is not CLASS=WEIGHT for one of the classes \(list(names)) (or use balanced or none)"
          )
        }
        guard w >= 0, w.isFinite else {
          throw TableError("\(Setting.classWeights.named): the weight of class \(name) must be a number ≥ 0, got \(w)")
        }
        weights[k] = w
      }
      return weights
    }
  }
}

/// A label per row kept as a code into the distinct labels: 2 bytes a row
/// rather than a string's 16, for tables of millions of rows.
package struct LabelColumn {
  /// The distinct labels, in the order they first appear.
  package private(set) var names: [String] = []
  package private(set) var codes: [UInt16] = []
  private var lookup: [String: UInt16] = [:]

  /// The most distinct labels a column may have.
  package static let maxDistinct = Int(UInt16.max)

  package init() {}

  package init(_ labels: [String]) {
    codes.reserveCapacity(labels.count)
    for label in labels { _ = append(label) }
  }

  package init(names: [String], codes: [UInt16]) {
    self.names = names
    self.codes = codes
    for (k, name) in names.enumerated() { lookup[name] = UInt16(k) }
  }

  /// Appends `label`; false (and nothing appended) past ``maxDistinct`` distinct labels.
  package mutating func append(_ label: String) -> Bool {
    if let k = lookup[label] {
      codes.append(k)
      return true
    }
    guard names.count < Self.maxDistinct else { return false }
    lookup[label] = UInt16(names.count)
    codes.append(UInt16(names.count))
    names.append(label)
    return true
  }

  package var count: Int { codes.count }

  package subscript(row: Int) -> String { names[Int(codes[row])] }
}
