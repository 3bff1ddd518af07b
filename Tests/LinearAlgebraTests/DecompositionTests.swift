import LinearAlgebra
import Testing

/// ‖a − b‖_F ≤ tolerance·max(1, ‖b‖_F), with the numbers on failure.
func expectNear<S: BLASScalar>(
  _ a: Matrix<S>, _ b: Matrix<S>, _ tolerance: S, _ what: String, sourceLocation: SourceLocation = #_sourceLocation
) {
  let error = (a - b).norm()
  let scale = Swift.max(1, b.norm())
  #expect(
    error <= tolerance * scale, "\(what): ‖difference‖ \(error) > \(tolerance)·\(scale)", sourceLocation: sourceLocation
  )
}

/// The n×n Hilbert matrix 1/(i + j + 1): symmetric positive definite, condition ~e^(3.5n).
func hilbert<S: BLASScalar>(_ n: Int) -> Matrix<S> {
  Matrix(rows: n, columns: n) { i, j in 1 / S(i + j + 1) }
}

/// Random symmetric positive definite: B·Bᵀ + n·I.
func spd<S: BLASScalar>(_ n: Int, seed: UInt64) -> Matrix<S> {
  let b = Matrix<S>.randomNormal(n, n, seed: seed)
  return matmul(b, b, transposeB: true) + Matrix<S>.identity(n) * S(n)
}

struct Precision<S: BLASScalar> {
  var tolerance: S
}

@Suite struct DecompositionTests {
  // The same checks in Float (tolerance 1e-4) and Double (1e-11).
  func svdProperties<S: BLASScalar>(_ a: Matrix<S>, _ tol: S) throws {
    let k = min(a.rows, a.columns)
    let thin = try a.svd()
    #expect(thin.u.shape == Shape(a.rows, k) && thin.vt.shape == Shape(k, a.columns))
    expectNear(thin.reconstructed, a, tol, "U·Σ·Vᵀ = A")
    expectNear(matmul(thin.u, thin.u, transposeA: true), .identity(k), tol, "UᵀU = I")
    expectNear(matmul(thin.vt, thin.vt, transposeB: true), .identity(k), tol, "VᵀV = I")
    #expect(zip(thin.singularValues, thin.singularValues.dropFirst()).allSatisfy { $0 >= $1 })
    #expect(thin.singularValues.allSatisfy { $0 >= 0 })
    let full = try a.svd(full: true)
    #expect(full.u.shape == Shape(a.rows, a.rows) && full.vt.shape == Shape(a.columns, a.columns))
    expectNear(matmul(full.u, full.u, transposeA: true), .identity(a.rows), tol, "full UᵀU = I")
    expectNear(full.reconstructed, a, tol, "full U·Σ·Vᵀ = A")
    let values = try a.singularValues()
    for (x, y) in zip(values, thin.singularValues) { #expect(abs(x - y) <= tol * max(1, values[0])) }
  }

  @Test func svdInDouble() throws {
    for (m, n) in [(1, 1), (6, 6), (40, 7), (7, 40)] {
      try svdProperties(Matrix<Double>.randomNormal(m, n, seed: UInt64(m * 100 + n)), 1e-11)
    }
    try svdProperties(hilbert(9) as Matrix<Double>, 1e-11)
  }

  @Test func svdInFloat() throws {
    for (m, n) in [(6, 6), (40, 7), (7, 40)] {
      try svdProperties(Matrix<Float>.randomNormal(m, n, seed: UInt64(m * 100 + n)), 1e-4)
    }
    try svdProperties(hilbert(6) as Matrix<Float>, 1e-4)
  }

  @Test func singularValuesOfAKnownMatrix() throws {
    // diag(3, 2) padded: σ = 3, 2. And a rank-one outer product u·vᵀ has σ = ‖u‖‖v‖, 0.
    let a = try Matrix<Double>([[0, 2], [3, 0], [0, 0]])
    let known = try a.singularValues()
    #expect(abs(known[0] - 3) < 1e-14 && abs(known[1] - 2) < 1e-14, "\(known)")
    let outer = matmul(Matrix<Double>(column: [1, 2, 2]), Matrix<Double>(row: [3, 4]))
    let s = try outer.singularValues()
    #expect(abs(s[0] - 15) < 1e-12 && abs(s[1]) < 1e-12)
    #expect(try outer.rank() == 1)
    #expect(try a.rank() == 2)
    #expect(abs(try a.conditionNumber() - 1.5) < 1e-14)
    #expect(try outer.conditionNumber() > 1e14)
  }

  func eigenProperties<S: BLASScalar>(_ a: Matrix<S>, _ tol: S) throws {
    let e = try a.symmetricEigen()
    let lambda = Matrix(diagonal: e.values)
    expectNear(matmul(a, e.vectors), matmul(e.vectors, lambda), tol, "A·V = V·Λ")
    expectNear(matmul(e.vectors, e.vectors, transposeA: true), .identity(a.rows), tol, "VᵀV = I")
    #expect(zip(e.values, e.values.dropFirst()).allSatisfy { $0 <= $1 }, "ascending: \(e.values)")
    let alone = try a.symmetricEigenvalues()
    for (x, y) in zip(alone, e.values) { #expect(abs(x - y) <= tol * max(1, abs(y))) }
  }

  @Test func symmetricEigenInBothPrecisions() throws {
    try eigenProperties(spd(30, seed: 1) as Matrix<Double>, 1e-11)
    try eigenProperties(hilbert(8) as Matrix<Double>, 1e-11)
    try eigenProperties(spd(12, seed: 2) as Matrix<Float>, 1e-4)
    // [[2, 1], [1, 2]] has eigenvalues 1 and 3.
    let v = try Matrix<Double>([[2, 1], [1, 2]]).symmetricEigenvalues()
    #expect(abs(v[0] - 1) < 1e-14 && abs(v[1] - 3) < 1e-14)
  }

  @Test func nonSymmetricMatrixIsRefused() throws {
    let a = try Matrix<Double>([[1, 2, 0], [2, 1, 0], [0, 0.5, 1]])
    #expect(
      throws: LinearAlgebraError.notSymmetric(row: 2, column: 1, difference: 0.5, tolerance: 4 * 16 * .ulpOfOne * 2)
    ) {
      try a.symmetricEigen()
    }
    // Within an explicit tolerance it is accepted (the lower triangle is used).
    #expect(try a.symmetricEigenvalues(symmetryTolerance: 0.6).count == 3)
  }

  @Test func choleskyInBothPrecisions() throws {
    for n in [1, 5, 40] {
      let a: Matrix<Double> = spd(n, seed: UInt64(n))
      let l = try a.cholesky()
      expectNear(matmul(l, l, transposeB: true), a, 1e-12, "L·Lᵀ = A")
      for j in 0..<n { for i in 0..<j { #expect(l[i, j] == 0) } }
      #expect(l.diagonal.allSatisfy { $0 > 0 })
      let b = Matrix<Double>.randomNormal(n, 3, seed: 9)
      let x = try a.choleskySolve(b)
      expectNear(matmul(a, x), b, 1e-10, "A·X = B")
      expectNear(Matrix.solve(choleskyFactor: l, b), x, 1e-12, "solve with a kept factor")
    }
    let f: Matrix<Float> = spd(20, seed: 3)
    let lf = try f.cholesky()
    expectNear(matmul(lf, lf, transposeB: true), f, 1e-5, "Float L·Lᵀ = A")
    let h: Matrix<Double> = hilbert(8)
    let lh = try h.cholesky()
    expectNear(matmul(lh, lh, transposeB: true), h, 1e-14, "Hilbert L·Lᵀ")
  }

  @Test func notPositiveDefiniteNamesTheMinor() throws {
    // Leading minors: 1 > 0, 1·1 − 2·2 < 0.
    let a = try Matrix<Double>([[1, 2, 0], [2, 1, 0], [0, 0, 1]])
    #expect(throws: LinearAlgebraError.notPositiveDefinite(routine: "potrf", minor: 2)) { try a.cholesky() }
    #expect(throws: LinearAlgebraError.notPositiveDefinite(routine: "potrf", minor: 2)) {
      try a.choleskySolve(.ones(3, 1))
    }
  }

  func luProperties<S: BLASScalar>(_ a: Matrix<S>, _ tol: S) {
    let d = a.lu()
    expectNear(matmul(d.permutation, matmul(d.l, d.u)), a, tol, "P·L·U = A")
    for i in 0..<d.l.columns { #expect(d.l[i, i] == 1) }
    for j in 0..<d.u.columns { for i in (j + 1)..<max(d.u.rows, j + 1) { #expect(d.u[i, j] == 0) } }
  }

  @Test func luAndInverse() throws {
    for (m, n) in [(5, 5), (8, 3), (3, 8)] {
      luProperties(Matrix<Double>.randomNormal(m, n, seed: UInt64(m + n)), 1e-13)
      luProperties(Matrix<Float>.randomNormal(m, n, seed: UInt64(m + n)), 1e-5)
    }
    let a = Matrix<Double>.randomNormal(30, 30, seed: 4)
    expectNear(matmul(a, try a.inverse()), .identity(30), 1e-10, "A·A⁻¹ = I")
    let h: Matrix<Double> = hilbert(6)  // condition ≈ 1.5e7
    expectNear(matmul(h, try h.inverse()), .identity(6), 1e-7, "Hilbert A·A⁻¹ = I")
    let f = Matrix<Float>.randomNormal(10, 10, seed: 5)
    expectNear(matmul(f, try f.inverse()), .identity(10), 1e-4, "Float A·A⁻¹ = I")
    let singular = try Matrix<Double>([[1, 2], [2, 4]])
    #expect(throws: LinearAlgebraError.singular(routine: "getrf", pivot: 2)) { try singular.inverse() }
    luProperties(singular, 1e-15)  // a singular matrix still factors
  }

  @Test func determinants() throws {
    let triangular = try Matrix<Double>([[2, 5, 7], [0, -3, 1], [0, 0, 0.5]])
    #expect(abs(triangular.determinant() - (-3)) < 1e-14)
    // A permutation matrix: one swap → −1, a 3-cycle → +1.
    let swap = try Matrix<Double>([[0, 1, 0], [1, 0, 0], [0, 0, 1]])
    let cycle = try Matrix<Double>([[0, 0, 1], [1, 0, 0], [0, 1, 0]])
    #expect(swap.determinant() == -1)
    #expect(cycle.determinant() == 1)
    #expect(try Matrix<Double>([[1, 2], [2, 4]]).determinant() == 0)
    #expect(try Matrix<Double>([[1, 2], [2, 4]]).logDeterminant() == (0, -.infinity))
    // 200×200 of 10·I with a swap: det = −10²⁰⁰, beyond Float's range, fine as a log.
    var big = Matrix<Float>.identity(200) * 10
    big[0, 0] = 0
    big[1, 1] = 0
    big[0, 1] = 10
    big[1, 0] = 10
    let (sign, logAbs) = big.logDeterminant()
    #expect(sign == -1)
    #expect(abs(logAbs - 200 * Float.log(10)) < 1e-3)
    #expect(big.determinant() == -.infinity)
    let small = try Matrix<Float>([[3, 1], [2, 4]])
    #expect(small.determinant() == 10)
  }

  /// The four Penrose conditions, on a rank-deficient rectangular matrix.
  @Test func pseudoInverseSatisfiesPenrose() throws {
    let a = matmul(Matrix<Double>.randomNormal(7, 3, seed: 1), Matrix<Double>.randomNormal(3, 5, seed: 2))  // rank 3
    let p = try a.pseudoInverse()
    #expect(p.shape == Shape(5, 7))
    expectNear(matmul(matmul(a, p), a), a, 1e-12, "A·A⁺·A = A")
    expectNear(matmul(matmul(p, a), p), p, 1e-12, "A⁺·A·A⁺ = A⁺")
    expectNear(matmul(a, p), matmul(a, p).transposed, 1e-12, "(A·A⁺)ᵀ = A·A⁺")
    expectNear(matmul(p, a), matmul(p, a).transposed, 1e-12, "(A⁺·A)ᵀ = A⁺·A")
    #expect(try a.rank() == 3)
    // Full rank and square: the inverse.
    let s = Matrix<Double>.randomNormal(6, 6, seed: 3)
    expectNear(try s.pseudoInverse(), try s.inverse(), 1e-10, "pinv = inverse")
  }

  @Test func nonFiniteInputsAreErrors() {
    var a = Matrix<Double>.identity(3)
    a[1, 2] = .nan
    #expect(throws: LinearAlgebraError.nonFinite(routine: "gesdd", row: 1, column: 2)) { try a.svd() }
    #expect(throws: LinearAlgebraError.nonFinite(routine: "potrf", row: 1, column: 2)) { try a.cholesky() }
    #expect(a.norm(.two).isNaN)
  }

  @Test func shapeErrorsNameTheShapes() async {
    await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
      _ = try? Matrix<Double>.zeros(2, 3).cholesky()
    }
    let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
      _ = Matrix<Double>.hcat([.zeros(2, 3), .zeros(4, 1)])
    }
    let text = String(decoding: result?.standardErrorContent ?? [], as: UTF8.self)
    #expect(text.contains("2×3") && text.contains("4×1"), "\(text)")
  }
}

@Suite struct NormAndSlicingTests {
  @Test func normsMatchTheirDefinitions() throws {
    let a = try Matrix<Double>([[1, -2, 3], [-4, 5, -6]])
    #expect(a.norm(.frobenius) == (91.0).squareRoot())
    #expect(a.norm(.one) == 9)  // columns: 5, 7, 9
    #expect(a.norm(.infinity) == 15)  // rows: 6, 15
    let s = try a.singularValues()
    #expect(abs(a.norm(.two) - s[0]) < 1e-14)
    // ‖A‖₂ = √λ_max(AᵀA)
    let lambda = try matmul(a, a, transposeA: true).symmetricEigenvalues(symmetryTolerance: 1e-12)
    #expect(abs(a.norm(.two) - lambda.last!.squareRoot()) < 1e-12)
    let v = Matrix<Double>(column: [3, -4, 0])
    #expect(v.vectorNorm(.one) == 7 && v.vectorNorm(.two) == 5 && v.vectorNorm(.infinity) == 4)
    let row = Matrix<Double>(row: [3, -4, 0])
    #expect(row.vectorNorm(.one) == 7 && row.norm(.one) == 4 && row.norm(.infinity) == 7)
    #expect(v.norm(.two) == 5)
  }

  @Test func slicingRoundTrips() throws {
    let a = Matrix<Double>(rows: 7, columns: 5) { i, j in Double(10 * i + j) }
    #expect(Matrix.vcat([a.rows(0..<3), a.rows(3..<3), a.rows(3..<7)]) == a)
    #expect(Matrix.hcat([a.submatrix(rows: 0..<7, columns: 0..<2), a.submatrix(rows: 0..<7, columns: 2..<5)]) == a)
    let block = a.submatrix(rows: 2..<5, columns: 1..<4)
    #expect(block.shape == Shape(3, 3) && block[0, 0] == 21 && block[2, 2] == 43)
    #expect(
      a.columns(at: [4, 0, 4])
        == Matrix.hcat([a.columnRange(4..<5).copy(), a.columnRange(0..<1).copy(), a.columnRange(4..<5).copy()]))
    // Row-major exchange, on a shape that is not a multiple of the 32×32 tile.
    let wide = Matrix<Float>.randomNormal(45, 70, seed: 1)
    let flat = wide.rowMajorElements
    #expect(flat[3 * 70 + 65] == wide[3, 65])
    #expect(try Matrix<Float>(rows: 45, columns: 70, rowMajor: flat) == wide)
    #expect(wide.transposed.transposed == wide)
    #expect(wide.transposed[65, 3] == wide[3, 65])
    // Diagonal, trace, reshape.
    let d = Matrix<Double>(diagonal: [1, 2, 3])
    #expect(d.diagonal == [1, 2, 3] && d.trace() == 6 && d.count == 9 && d[0, 1] == 0)
    #expect(a.diagonal == [0, 11, 22, 33, 44])
    #expect(a.reshaped(5, 7).reshaped(7, 5) == a)
    #expect(a.reshaped(35, 1).elements == a.elements)
  }
}
