import Foundation
import LinearAlgebra

/// One LAPACK-backed routine at one size, against `numpy.linalg` when it ran.
public struct LinalgResult: Codable, Sendable {
  /// `svd`, `eigh`, `cholesky` or `solve` (NumPy's names).
  public var operation: String
  public var n: Int
  /// BLASNet's median milliseconds per call.
  public var milliseconds: Double
  /// NumPy's median milliseconds per call, when the reference ran.
  public var numpyMilliseconds: Double?
}

/// Times `svd()` (thin, with vectors), `symmetricEigen()`, `cholesky()` and
/// `solve(_:)` on n×n `Double` matrices (NumPy's default dtype): a Gaussian
/// matrix for SVD and solve (one right-hand side), B·Bᵀ + n·I for the others,
/// the same inputs as `numpy_reference.py --linalg`.
public func linalgTimings(sizes: [Int] = [256, 1024], quick: Bool) -> [LinalgResult] {
  var results: [LinalgResult] = []
  for n in sizes {
    let a = Matrix<Double>.randomNormal(n, n, seed: 11)
    let rhs = Matrix<Double>.randomNormal(n, 1, seed: 12)
    let spd = matmul(a, a, transposeB: true) + Matrix<Double>.identity(n) * Double(n)
    let budget = quick ? 0.05 : 1.0
    let runs = n >= 1024 ? 3 : 5
    func time(_ name: String, _ body: () throws -> Any) {
      let t = Timing.measure(budget: budget, minimumRuns: runs) { opaqueUse(try? body()) }
      results.append(LinalgResult(operation: name, n: n, milliseconds: t.median * 1e3, numpyMilliseconds: nil))
    }
    time("svd") { try a.svd() }
    time("eigh") { try spd.symmetricEigen() }
    time("cholesky") { try spd.cholesky() }
    time("solve") { try a.solve(rhs) }
  }
  return results
}

/// The table of ``linalgTimings(sizes:quick:)``, with NumPy/BLASNet ratios.
public func linalgTable(_ results: [LinalgResult], header: String) -> String {
  var s = header + "\n\nLAPACK routines on n×n Double matrices (median ms per call)\n"
  s += "operation      n    BLASNet ms     NumPy ms   NumPy/BLASNet\n"
  for r in results {
    s += r.operation.padding(toLength: 10, withPad: " ", startingAt: 0) + pad(String(r.n), 6)
    s += pad(f(r.milliseconds, 3), 14) + pad(r.numpyMilliseconds.map { f($0, 3) } ?? "—", 13)
    s += pad(r.numpyMilliseconds.map { "×" + f($0 / r.milliseconds, 2) } ?? "—", 16) + "\n"
  }
  return s
}
