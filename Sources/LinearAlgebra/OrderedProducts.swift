import COrderedProducts

/// Matrix products whose every element is summed in one fixed order, so that
/// an element depends on its row of A and its column of B and on nothing
/// else.
///
/// BLAS chooses its blocking, its kernels and its threads by the shapes of a
/// call and the state of the process, so the same column of B can come out
/// different in its last bits when it is multiplied alone, in a batch of 32
/// or beside other work: the sums are the same, their rounding is not.
/// Here `C[i, j]` is one chain of fused multiply-adds,
/// `fma(A[i, k−1], B[k−1, j], … fma(A[i, 0], B[0, j], +0))`, in every case:
/// whatever the number of columns, the threads, or which of the AVX-512,
/// AVX2 or portable code runs (each rounds once per term). The vector code
/// keeps a tile of C in registers (8 to 64 rows by 2 to 16 columns), which suits
/// the narrow layers of tabular networks; for wide products BLAS is faster.
///
///     let c = a.orderedProduct(b)     // a.rows × b.columns, as matmul(a, b) up to rounding
public enum OrderedProducts {
  /// A code path, by the instructions it uses. Every variant gives the same bits.
  public enum Variant: Int, CaseIterable, Sendable, CustomStringConvertible {
    /// Scalar fused multiply-adds from C's `fmaf`/`fma`: any CPU.
    case portable = 0
    /// 256-bit vectors (AVX2 and FMA).
    case avx2 = 1
    /// 512-bit vectors (AVX-512F).
    case avx512 = 2

    public var description: String {
      switch self {
      case .portable: "portable"
      case .avx2: "AVX2"
      case .avx512: "AVX-512"
      }
    }
  }

  /// The fastest variant this CPU runs: what the products use.
  public static var best: Variant { Variant(rawValue: Int(blasnet_ordered_best_variant())) ?? .portable }

  /// Whether this CPU has `variant`'s instructions.
  public static func supports(_ variant: Variant) -> Bool {
    blasnet_ordered_supports(Int32(variant.rawValue)) != 0
  }

  /// `C = A·B` for column-major operands with leading dimensions (A m×k,
  /// B k×n, C m×n), with ``best`` or, for tests and benchmarks, a given
  /// variant (one the CPU lacks runs as ``best``).
  @inlinable
  public static func multiply<Scalar: BLASScalar>(
    m: Int, n: Int, k: Int, a: UnsafePointer<Scalar>, lda: Int, b: UnsafePointer<Scalar>, ldb: Int,
    c: UnsafeMutablePointer<Scalar>, ldc: Int, variant: Variant? = nil
  ) {
    Scalar._orderedProduct(variant ?? best, m: m, n: n, k: k, a: a, lda: lda, b: b, ldb: ldb, c: c, ldc: ldc)
  }
}

extension Matrix {
  /// `self · other` summed in ``OrderedProducts``' fixed order: each element
  /// is the same whatever else is multiplied with it. Traps unless
  /// `self.columns == other.rows`.
  public func orderedProduct(_ other: Matrix, variant: OrderedProducts.Variant? = nil) -> Matrix {
    _ = _productShape("orderedProduct", self, .none, other, .none)
    var c = Matrix.zeros(rows, other.columns)
    if rows == 0 || other.columns == 0 { return c }
    withUnsafeBufferPointer { a in
      other.withUnsafeBufferPointer { b in
        c.withUnsafeMutableBufferPointer { cp in
          OrderedProducts.multiply(
            m: rows, n: other.columns, k: columns, a: a.baseAddress!, lda: Swift.max(rows, 1), b: b.baseAddress!,
            ldb: Swift.max(other.rows, 1), c: cp.baseAddress!, ldc: rows, variant: variant)
        }
      }
    }
    return c
  }
}
