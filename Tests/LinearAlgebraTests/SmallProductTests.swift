import Foundation
import LinearAlgebra
import Testing

/// Small shapes (m, n, k): odd sizes, a single row or column, more columns than one
/// block (so that a narrower last block runs), and a product above libxsmm's limit.
let smallShapes: [(Int, Int, Int)] = [
  (1, 1, 1), (1, 455, 8), (8, 455, 1), (3, 5, 7), (7, 13, 5), (16, 455, 30), (9, 1000, 3), (33, 17, 29),
  (300, 300, 300),
]

/// Adds 1 to every element of a block and records which columns it saw.
final class BlockLog<S: BLASScalar>: ProductEpilogue {
  typealias Scalar = S
  var blocks: [(first: Int, count: Int)] = []
  func finish(_ block: UnsafeMutablePointer<S>, rows: Int, firstColumn: Int, columns: Int) {
    for i in 0..<(rows * columns) { block[i] = block[i] * 2 + S(firstColumn) }
    blocks.append((firstColumn, columns))
  }
}

@Suite struct SmallProductTests {
  func check<S: BLASScalar>(_: S.Type, tolerance: S) {
    for (m, n, k) in smallShapes {
      for (i, (opA, opB)) in transposes.enumerated() {
        let (ta, tb) = (opA == .transposed, opB == .transposed)
        let (a, b) = operands(m, n, k, opA, opB, seed: UInt64(m * 7 + n * 3 + k + i), as: S.self)
        let c0 = Matrix<S>.randomNormal(m, n, seed: 11)
        for (alpha, beta) in [(S(1), S(0)), (S(1), S(1)), (S(0.5), S(0)), (S(2), S(0.25))] {
          var viaBLAS = c0
          var viaXSMM = c0
          var naive = c0
          gemm(alpha: alpha, a, b, transposeA: ta, transposeB: tb, beta: beta, into: &viaBLAS, kernel: .blas)
          gemm(alpha: alpha, a, b, transposeA: ta, transposeB: tb, beta: beta, into: &viaXSMM, kernel: .libxsmm)
          Naive.gemm(alpha: alpha, a, b, transposeA: ta, transposeB: tb, beta: beta, into: &naive)
          let bound = tolerance * S(k + 2)
          #expect(
            viaXSMM.isApproximatelyEqual(to: naive, absoluteTolerance: bound),
            "\(S.self) \(m)×\(n)×\(k) \(opA)/\(opB) α \(alpha) β \(beta): libxsmm differs from naive by \(viaXSMM.maxAbsoluteDifference(naive))"
          )
          #expect(
            viaBLAS.isApproximatelyEqual(to: naive, absoluteTolerance: bound),
            "\(S.self) \(m)×\(n)×\(k) \(opA)/\(opB): BLAS differs from naive by \(viaBLAS.maxAbsoluteDifference(naive))"
          )
        }
      }
    }
  }

  @Test func libxsmmBLASAndNaiveAgreeInFloat() { check(Float.self, tolerance: 8 * Float.ulpOfOne) }
  @Test func libxsmmBLASAndNaiveAgreeInDouble() { check(Double.self, tolerance: 8 * Double.ulpOfOne) }

  /// With libxsmm linked, these products really run in it (a transposed A
  /// through a copy); the one above libxsmm's size limit never does.
  @Test func libxsmmMakesKernelsForSmallShapes() {
    let small = [
      ProductShape(m: 16, n: 455, k: 30), ProductShape(transposeA: true, m: 16, n: 455, k: 8),
      ProductShape(double: true, transposeB: true, m: 16, n: 30, k: 455),
      ProductShape(m: 1, n: 9, k: 1, accumulate: true),
    ]
    for shape in small {
      #expect(SmallProducts.hasKernel(for: shape) == SmallProducts.isLinked, "\(shape)")
    }
    #expect(!SmallProducts.hasKernel(for: ProductShape(m: 512, n: 1024, k: 784)))
    #expect(SmallProducts.libraryDescription.hasPrefix(SmallProducts.isLinked ? "1.17" : "not linked"))
  }

  /// The fused product: the epilogue sees every column exactly once, in
  /// order, in blocks of at most 16 KB on libxsmm's path and in one block on
  /// BLAS's, and the result is the product followed by the epilogue.
  @Test(arguments: [ProductKernel.blas, .libxsmm, .automatic])
  func epilogueFinishesEveryBlockOnce(kernel: ProductKernel) {
    for (m, n, k) in [(16, 455, 30), (3, 1000, 5), (1, 1, 1), (8, 257, 16)] {
      let (a, b) = operands(m, n, k, .none, .none, seed: 3, as: Float.self)
      let log = BlockLog<Float>()
      var fused = Matrix<Float>.zeros(m, n)
      gemm(a, b, into: &fused, epilogue: log, kernel: kernel)
      var expected = Naive.matmul(a, b)
      for j in 0..<n {
        let start = Float(blockStart(j, log))
        for i in 0..<m { expected[i, j] = expected[i, j] * 2 + start }
      }
      #expect(fused.isApproximatelyEqual(to: expected, absoluteTolerance: 1e-4), "\(kernel) \(m)×\(n)×\(k)")
      #expect(log.blocks.map(\.count).reduce(0, +) == n)
      #expect(zip(log.blocks, log.blocks.dropFirst()).allSatisfy { $0.first + $0.count == $1.first })
      #expect(log.blocks.first?.first == 0)
      let viaXSMM =
        kernel == .libxsmm && SmallProducts.hasKernel(for: ProductShape(m: m, n: n, k: k))
      if viaXSMM {
        #expect(log.blocks.allSatisfy { $0.count * m * 4 <= 16_384 || $0.count <= 8 }, "\(log.blocks)")
      } else if kernel == .blas {
        #expect(log.blocks.count == 1)
      }
    }
  }

  /// The first column of the block that holds column `j`.
  func blockStart(_ j: Int, _ log: BlockLog<Float>) -> Int {
    log.blocks.first { $0.first <= j && j < $0.first + $0.count }?.first ?? -1
  }

  // MARK: - The calibration file

  func temporaryFile(_ contents: String) -> URL {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("blasnet-sp-\(UUID().uuidString).json")
    #expect(FileManager.default.createFile(atPath: url.path, contents: Data(contents.utf8)))
    return url
  }

  func calibrationText(machine: String, blas: Double, libxsmm: Double, chosen: String, m: Int = 16) -> String {
    """
    {"format": 2, "machine": \(String(reflecting: machine)), "splits": [], "measurements": [{"shape": {"double": false,
    "transposeA": false, "transposeB": false, "m": \(m), "n": 455, "k": 30, "accumulate": false},
    "blasNanoseconds": \(blas), "libxsmmNanoseconds": \(libxsmm), "chosen": "\(chosen)"}]}
    """
  }

  /// Builds on another backend, or debug builds, keep their own file: the
  /// name comes from the machine string.
  @Test func eachMachineAndBuildHasItsOwnFileName() {
    let here = SmallProducts.fileName(for: SmallProducts.machine)
    #expect(here.hasPrefix("small-products-") && here.hasSuffix(".json") && here.count == 36)
    #expect(SmallProducts.fileName(for: SmallProducts.machine + " | debug build") != here)
    #expect(SmallProducts.fileName(for: "") == "small-products-cbf29ce484222325.json")
    if ProcessInfo.processInfo.environment[SmallProducts.cacheVariable] == nil {
      #expect(SmallProducts.calibrationFile.map { $0.lastPathComponent == here } ?? true)
    }
  }

  @Test func aTrustworthyCalibrationFileIsRead() {
    let url = temporaryFile(
      calibrationText(machine: SmallProducts.machine, blas: 4000, libxsmm: 3000, chosen: "libxsmm"))
    defer { try? FileManager.default.removeItem(at: url) }
    let (calibration, problem) = SmallProducts.readCalibration(url)
    #expect(problem == nil)
    #expect(calibration?.measurements.first?.chosen == .libxsmm)
    #expect(calibration?.measurements.first?.shape == ProductShape(m: 16, n: 455, k: 30))
  }

  @Test func aWrongOrStaleCalibrationFileIsRefusedWithTheReason() throws {
    let machine = SmallProducts.machine
    let cases: [(String, String)] = [
      ("{ not json", "does not parse"),
      ("", "does not parse"),
      (
        calibrationText(machine: "Some other CPU | OpenBLAS 0.3.20", blas: 4000, libxsmm: 3000, chosen: "libxsmm"),
        "made for"
      ),
      // libxsmm chosen although it was slower: not trusted.
      (calibrationText(machine: machine, blas: 3000, libxsmm: 4000, chosen: "libxsmm"), "impossible entry"),
      (calibrationText(machine: machine, blas: -1, libxsmm: 4000, chosen: "blas"), "impossible entry"),
      (calibrationText(machine: machine, blas: 3000, libxsmm: 4000, chosen: "blas", m: 0), "impossible entry"),
      (
        calibrationText(machine: machine, blas: 3000, libxsmm: 4000, chosen: "blas").replacingOccurrences(
          of: "\"format\": 2", with: "\"format\": 9"), "format 9"
      ),
    ]
    for (text, reason) in cases {
      let url = temporaryFile(text)
      defer { try? FileManager.default.removeItem(at: url) }
      let (calibration, problem) = SmallProducts.readCalibration(url)
      #expect(calibration == nil, "\(text)")
      #expect(problem?.contains(reason) == true, "\(problem ?? "nil") should say \(reason)")
    }
    let missing = FileManager.default.temporaryDirectory.appendingPathComponent("blasnet-no-such-\(UUID().uuidString)")
    #expect(SmallProducts.readCalibration(missing).1 == "no file")
  }

  /// A shape measured in automatic mode is remembered with both times and a
  /// choice that follows the 3 % rule.
  @Test func automaticModeRecordsAMeasurement() {
    let shape = ProductShape(m: 5, n: 77, k: 3)
    let chosen = SmallProducts.chosenKernel(for: shape)
    if !SmallProducts.isLinked || SmallProducts.mode == .blas {
      #expect(chosen == .blas)
      return
    }
    if SmallProducts.mode == .libxsmm {
      // Forced: libxsmm wherever it makes a kernel, nothing measured.
      #expect(chosen == (SmallProducts.hasKernel(for: shape) ? .libxsmm : .blas))
      return
    }
    let m = SmallProducts.measurements.first { $0.shape == shape }
    #expect(m != nil)
    if let m {
      #expect(m.blasNanoseconds > 0 && m.libxsmmNanoseconds > 0)
      #expect(m.chosen == chosen)
      #expect((m.chosen == .libxsmm) == (m.libxsmmNanoseconds < 0.97 * m.blasNanoseconds))
    }
  }
}

@Suite struct SplitDecisionTests {
  /// A skinny product's layout is measured once and kept: both times are
  /// recorded, the choice follows the 3 % rule, and asking again gives the same.
  @Test func theSplitOfASkinnyProductIsMeasuredAndKept() {
    let a = Matrix<Float>.randomNormal(20, 3000, seed: 1)
    let b = Matrix<Float>.randomNormal(3000, 209, seed: 2)
    withBLASThreads(1) { #expect(!prefersSplittingColumns(a, b), "one BLAS thread: nothing to split over") }
    // Two threads, so that the layouts are really measured, whatever the machine.
    withBLASThreads(2) {
      let first = prefersSplittingColumns(a, b)
      let kept = SmallProducts.splitMeasurements.first { $0.shape == ProductShape(m: 20, n: 209, k: 3000) }
      #expect(kept != nil)
      if let kept {
        #expect(kept.wholeNanoseconds > 0 && kept.splitNanoseconds > 0)
        #expect(kept.split == first)
        #expect(kept.split == (kept.splitNanoseconds < 0.97 * kept.wholeNanoseconds))
      }
      #expect(prefersSplittingColumns(a, b) == first)
      // Either layout computes the same product.
      var split = Matrix<Float>.zeros(20, 209)
      var whole = Matrix<Float>.zeros(20, 209)
      gemmSplittingColumns(a, b, into: &split)
      gemm(a, b, into: &whole, kernel: .blas)
      #expect(split.isApproximatelyEqual(to: whole, absoluteTolerance: 1e-3))
    }
  }

  @Test func anImpossibleSplitEntryIsRefused() {
    let text = """
      {"format": 2, "machine": \(String(reflecting: SmallProducts.machine)), "measurements": [], "splits": [{"shape":
      {"double": false, "transposeA": false, "transposeB": false, "m": 20, "n": 209, "k": 12288, "accumulate": false},
      "wholeNanoseconds": 1000, "splitNanoseconds": 2000, "split": true}]}
      """
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("blasnet-split-\(UUID().uuidString).json")
    #expect(FileManager.default.createFile(atPath: url.path, contents: Data(text.utf8)))
    defer { try? FileManager.default.removeItem(at: url) }
    let (calibration, problem) = SmallProducts.readCalibration(url)
    #expect(calibration == nil)
    #expect(problem?.contains("impossible entry") == true)
  }
}
