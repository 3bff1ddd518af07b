import Foundation
import LinearAlgebra
import NeuralNetwork
import Testing

/// A labelled data set from a numeric CSV fixture: features as rows, examples as columns.
struct Fixture {
  var x: Matrix<Float>
  var labels: [Int]

  /// Reads the fixture `<name>.csv`, copied from `Fixtures/` into the test bundle (header row, numbers only, label last).
  static func load(_ name: String) throws -> Fixture {
    let url = try #require(Bundle.module.url(forResource: name, withExtension: "csv"))
    let text = try String(contentsOf: url, encoding: .utf8)
    let rows = text.split(whereSeparator: \.isNewline).dropFirst().map { line in
      line.split(separator: ",").map { Float(String($0))! }
    }
    let features = rows[0].count - 1
    let x = Matrix<Float>(rows: features, columns: rows.count) { i, j in rows[j][i] }
    return Fixture(x: x, labels: rows.map { Int($0[features]) })
  }
}

/// Expected / observed / relative error, printed on failure.
func expectClose(
  _ observed: Double, _ expected: Double, tolerance: Double, sourceLocation: SourceLocation = #_sourceLocation
) {
  let error = abs(observed - expected)
  #expect(
    error <= tolerance,
    "expected \(expected), observed \(observed), error \(error) > \(tolerance)", sourceLocation: sourceLocation)
}

/// The labels of a 1×m row, as Ints.
func classes(_ y: Matrix<Float>) -> [Int] { y.elements.map { Int($0) } }
