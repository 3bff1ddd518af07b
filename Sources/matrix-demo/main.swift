// A short tour of the Matrix API and a naive-versus-BLAS timing, for a first look.
// Run with: swift run -c release matrix-demo
import Foundation
import LinearAlgebra

BLAS.restartWithMatchingKernelsIfNeeded { FileHandle.standardError.write(Data("matrix-demo: note: \($0)\n".utf8)) }

let a = try Matrix<Float>([[1, 2, 3], [4, 5, 6]])
let b = try Matrix<Float>([[7, 8], [9, 10], [11, 12]])
print("A =", a, separator: "\n")
print("A·B =", matmul(a, b), separator: "\n")
print("Aᵀ·A (transpose read by BLAS, no copy) =", matmul(a, a, transposeA: true), separator: "\n")

do {
  _ = try Matrix<Float>([[1, 2, 3], [4, 5]])
} catch {
  print("Ragged rows are refused:", error)
}

print(
  "\nBLAS: \(BLAS.summary) (\(BLAS.configuration)); products in \(BLAS.productLibrary); CPU: \(BLAS.CPUFeatures.current.modelName)"
)
print("Square sgemm, naive triple loop vs BLAS (best of 3):")
print("    n   naive triple loop   BLAS (sgemm)   speedup")
let clock = ContinuousClock()
func best(_ body: () -> Void) -> Double {
  var t = Double.infinity
  for _ in 0..<3 {
    let d = clock.measure(body)
    t = min(t, Double(d.components.seconds) * 1e3 + Double(d.components.attoseconds) * 1e-15)
  }
  return t
}
for n in [32, 64, 128, 256, 512] {
  let x = Matrix<Float>.randomNormal(n, n, seed: 1)
  let y = Matrix<Float>.randomNormal(n, n, seed: 2)
  var c = Matrix<Float>.zeros(n, n)
  let naive = best { Naive.gemm(x, y, into: &c) }
  let blas = best { gemm(x, y, into: &c) }
  let cells = [naive, blas].map { String(Int(($0 * 1000).rounded())) }
  print(
    String(repeating: " ", count: 5 - String(n).count) + "\(n)", "  naive \(cells[0]) µs", "  BLAS \(cells[1]) µs",
    "  ×\(Int((naive / blas).rounded()))")
}
