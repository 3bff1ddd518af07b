import LinearAlgebra
import NeuralNetwork
import Testing

/// The piecewise-linear encoding of numeric inputs (issue 35, point 3).
struct PiecewiseLinearEncodingTests {
  /// Input 0 takes 0…8 (bins 2: edges at ranks 0, 4 and 8, the values 0, 4
  /// and 8); input 1 is not encoded; input 2 has two distinct values (one
  /// bin, nothing a ramp adds) and passes through too.
  func fitted() -> PiecewiseLinearEncoding {
    let x = Matrix<Float>(rows: 3, columns: 9) { i, j in
      i == 0 ? Float(8 - j) : i == 1 ? Float(j) * 10 : Float(j % 2)
    }
    return PiecewiseLinearEncoding(fitting: x, encoded: [true, false, true], bins: 2)
  }

  @Test func edgesAreTheTrainingQuantilesOfTheEncodedInputs() throws {
    let encoding = fitted()
    #expect(encoding.edges == [[0, 4, 8], nil, nil])
    #expect(encoding.inputCount == 3 && encoding.outputCount == 5)
    #expect(encoding.blockStarts == [0, 3, 4])
    #expect(encoding.problem == nil)
    // Repeated quantiles merge: 0,0,0,0,1,2 in 4 bins has edges 0 (ranks 0, 1.25, 2.5), 1 and 2.
    let repeated = PiecewiseLinearEncoding(
      fitting: try Matrix<Float>(rows: 1, columns: 6, columnMajor: [0, 0, 0, 0, 1, 2]), encoded: [true], bins: 4)
    #expect(repeated.edges == [[0, 1, 2]])
  }

  /// Target-aware edges, by hand: input 0 takes 0…11 and the label is 1
  /// from 8 on, so its one split is halfway between 7 and 8, and both
  /// leaves are pure (no third bin, though 3 are allowed); input 1
  /// alternates 0 and 1, each value with the same share of 1s (no split
  /// helps: passed through); input 2 is not encoded.
  @Test func targetEdgesSitWhereTheLabelChanges() throws {
    let x = Matrix<Float>(rows: 3, columns: 12) { i, j in i == 0 ? Float(j) : i == 1 ? Float(j % 2) : Float(j) }
    let y = Matrix<Float>(rows: 1, columns: 12) { _, j in j >= 8 ? 1 : 0 }
    let step = PiecewiseLinearEncoding(fitting: x, targets: y, encoded: [true, true, false], bins: 3, minimumLeaf: 1)
    #expect(step.edges == [[0, 7.5, 11], nil, nil])
    // Leaves of at least 3 rows: the label turns at 10, the split nearest it with 3 rows on the right is 8.5.
    let late = Matrix<Float>(rows: 1, columns: 12) { _, j in j >= 10 ? 1 : 0 }
    let wide = PiecewiseLinearEncoding(
      fitting: Matrix<Float>(rows: 1, columns: 12) { _, j in Float(j) }, targets: late, encoded: [true], bins: 2,
      minimumLeaf: 3)
    #expect(wide.edges == [[0, 8.5, 11]])
    // Three classes (one-hot rows) of three values each: the splits 2.5 and 5.5, best first.
    let classes = Matrix<Float>(rows: 3, columns: 9) { c, j in j / 3 == c ? 1 : 0 }
    let three = PiecewiseLinearEncoding(
      fitting: Matrix<Float>(rows: 1, columns: 9) { _, j in Float(8 - j) }, targets: classes, encoded: [true],
      bins: 4, minimumLeaf: 1)
    #expect(three.edges == [[0, 2.5, 5.5, 8]])
    #expect(three.problem == nil)
  }

  /// Each encoded input becomes its value and one ramp per bin, 0 below the
  /// bin, 1 above it and linear inside, by hand: 2 gives (2, ½, 0), 6 gives
  /// (6, 1, ½); beyond the training range the ramps stay at 0 or 1 and only
  /// the value goes on; inputs passed through are copied.
  @Test func eachValueBecomesItselfAndOneRampPerBin() throws {
    let encoding = fitted()
    let x = try Matrix<Float>(rows: 3, columns: 4, columnMajor: [2, 7, 1, 6, -3, 0, -5, 1, 1, 20, 9, 0])
    let e = encoding.encode(x)
    #expect(e.shape == Shape(5, 4))
    #expect(e.column(0).elements == [2, 0.5, 0, 7, 1])
    #expect(e.column(1).elements == [6, 1, 0.5, -3, 0])
    #expect(e.column(2).elements == [-5, 0, 0, 1, 1])
    #expect(e.column(3).elements == [20, 1, 1, 9, 0])
    // Double gives the same values.
    let d = encoding.encode(Matrix<Double>(rows: 3, columns: 4) { Double(x[$0, $1]) })
    #expect(d.elements.map(Float.init) == e.elements)
  }

  /// Examples read through the encoding are the encoded matrix's columns.
  @Test func encodedExamplesGatherTheEncodedColumns() {
    let encoding = fitted()
    let x = Matrix<Float>(rows: 3, columns: 5) { i, j in Float(i * 3 + j) - 2 }
    let source = PiecewiseLinearExamples(x, encoding: encoding)
    #expect(source.featureCount == 5 && source.exampleCount == 5)
    var out = Matrix<Float>.zeros(5, 2)
    source.gatherExamples([4, 1][...], into: &out)
    let all = encoding.encode(x)
    #expect(out.column(0).elements == all.column(4).elements)
    #expect(out.column(1).elements == all.column(1).elements)
  }

  @Test func editedEdgesAreNamedProblems() {
    #expect(PiecewiseLinearEncoding(edges: [[1]]).problem == "input 1 has 1 bin edges (at least 2)")
    #expect(PiecewiseLinearEncoding(edges: [nil, [0, 2, 2]]).problem == "the edges of input 2 do not increase")
    #expect(PiecewiseLinearEncoding(edges: [[0, .infinity]]).problem == "an edge of input 1 is not finite")
  }
}
