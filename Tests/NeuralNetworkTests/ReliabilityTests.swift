import Foundation
import LinearAlgebra
import NeuralNetwork
import Testing

#if canImport(Glibc)
  import Glibc
#endif

@Suite struct NonFiniteInputTests {
  // Fitted on x1 ∈ {1, 3} (mean 2, sd 1) and x2 ∈ {0.1, 0.1} (sd 0: divided by 1).
  let scaler = Standardizer(means: [2, 0.1], standardDeviations: [1e-36, 0])

  @Test func aValueThatOverflowsOnceStandardisedIsThrownWithItsPlace() throws {
    let x = try Matrix<Float>(rows: 2, columns: 3, rowMajor: [2, 3, 1e3, 0.1, 0.2, 0.3])
    // Column 1: (3 − 2) / 1e-36 = 1e36 fits a Float; column 2: (1000 − 2) / 1e-36 does not.
    #expect(throws: NonFiniteInputError(feature: 0, example: 2, value: 1000, standardized: .infinity)) {
      try scaler.checkedTransform(x)
    }
    let fine = try Matrix<Float>(rows: 2, columns: 2, rowMajor: [2, 3, 0.1, 0.2])
    let scaled = try scaler.checkedTransform(fine)
    #expect(scaled[0, 0] == 0 && scaled[0, 1] == 1e36)
    #expect(Swift.abs(scaled[1, 1] - 0.1) < 1e-6)
  }

  @Test func nanInTheInputIsThrownToo() throws {
    let x = try Matrix<Double>(rows: 2, columns: 1, rowMajor: [2, .nan])
    #expect(throws: NonFiniteInputError.self) { try scaler.checkedTransform(x) }
  }

  @Test func outliersAreTheValuesBeyondKDeviationsInColumnMajorOrder() throws {
    let s = Standardizer(means: [0, 10], standardDeviations: [1, 2])
    let x = try Matrix<Double>(rows: 2, columns: 3, rowMajor: [0, -11, 10.5, 10, 10, 40])
    let scaled = s.transform(x)
    let far = s.outliers(in: scaled, raw: x, beyond: 10)
    #expect(far.map(\.feature) == [0, 0, 1])
    #expect(far.map(\.example) == [1, 2, 2])
    #expect(s.outliers(in: scaled, raw: x, beyond: 20).isEmpty)
  }

  /// A mapped feature is bounded once mapped: its distance is measured on the
  /// raw value, in sixths of the training range (knots 0…6: units of 1).
  @Test func aMappedFeatureIsFarByItsRawValueOutsideTheKnots() throws {
    let map = QuantileMap(knots: [0, 3, 6], scores: [-1, 0, 1])
    let s = Standardizer(means: [0, 0], standardDeviations: [1, 1], quantileMaps: [map, nil])
    let x = try Matrix<Double>(rows: 2, columns: 3, rowMajor: [-5, 17, 3, 0, 0, 0])
    let scaled = s.transform(x)
    #expect(scaled[0, 0] == -1 && scaled[0, 1] == 1 && scaled[0, 2] == 0)
    #expect(s.distanceOutside(-5, feature: 0) == 5)
    #expect(s.distanceOutside(17, feature: 0) == 11)
    #expect(s.distanceOutside(4, feature: 0) == 0)
    #expect(s.outliers(in: scaled, raw: x, beyond: 10).map(\.example) == [1])
    #expect(s.outliers(in: scaled, raw: x, beyond: 4).map(\.example) == [0, 1])
  }
}

@Suite struct TrainingMemoryTests {
  @Test func countsParametersGradientsOptimiserStateAndOneBatch() {
    // [3, 4, 1]: 3·4 + 4 + 4·1 + 1 = 21 parameters; units 5, widest 4.
    let adam = TrainingMemory(sizes: [3, 4, 1], batchSize: 10, optimizer: .adam(learningRate: 0.1))
    #expect(adam.parameters == 21 * 4)
    #expect(adam.gradients == 21 * 4)
    #expect(adam.optimizerState == 2 * 21 * 4)
    // (3 inputs + 2·5 units + 2·4 widest) · 10 examples · 4 bytes.
    #expect(adam.activations == 21 * 10 * 4)
    #expect(adam.total == 84 * 4 + 840)
    let gd = TrainingMemory(
      sizes: [3, 4, 1], batchSize: 10, optimizer: .gradientDescent(learningRate: 0.1), dropout: true, scalarBytes: 8)
    #expect(gd.optimizerState == 0)
    #expect(gd.activations == 26 * 10 * 8)
  }

  @Test func absurdSizesDoNotOverflow() {
    let m = TrainingMemory(sizes: [30, Int.max, Int.max, 1], batchSize: 64, optimizer: .adam(learningRate: 0.1))
    #expect(m.total.isFinite && m.total > 1e38)
    #expect(TrainingMemory.format(40e9) == "40.0 GB")
    #expect(TrainingMemory.format(999) == "999 B")
    #expect(TrainingMemory.format(153_600_000) == "153.6 MB")
  }
}

@Suite struct AtomicFileTests {
  func folder() throws -> String {
    let path = NSTemporaryDirectory() + "blasnet-atomic-\(UUID().uuidString)"
    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: false)
    return path
  }

  @Test func followsSymbolicLinksAndKeepsTheMode() throws {
    let dir = try folder()
    defer { try? FileManager.default.removeItem(atPath: dir) }
    try AtomicFile.write(Data("one".utf8), to: dir + "/target")
    #expect(chmod(dir + "/target", 0o600) == 0)
    try FileManager.default.createSymbolicLink(atPath: dir + "/link", withDestinationPath: "target")
    try FileManager.default.createSymbolicLink(atPath: dir + "/link2", withDestinationPath: dir + "/link")
    try AtomicFile.write(Data("two".utf8), to: dir + "/link2")
    #expect(try String(contentsOfFile: dir + "/target", encoding: .utf8) == "two")
    #expect(try FileManager.default.destinationOfSymbolicLink(atPath: dir + "/link2") == dir + "/link")
    var info = stat()
    #expect(stat(dir + "/target", &info) == 0 && info.st_mode & 0o777 == 0o600)
    #expect(try AtomicFile.finalTarget(of: dir + "/link2") == dir + "/target")
    #expect(try AtomicFile.finalTarget(of: dir + "/new") == dir + "/new")
  }

  @Test func refusesWhatIsNotARegularFile() throws {
    let dir = try folder()
    defer { try? FileManager.default.removeItem(atPath: dir) }
    #expect(mkfifo(dir + "/fifo", 0o600) == 0)
    #expect(throws: FileWriteError(reason: "\(dir)/fifo is a FIFO (named pipe), not a file")) {
      try AtomicFile.write(Data("x".utf8), to: dir + "/fifo")
    }
    #expect(throws: FileWriteError(reason: "\(dir) is a folder, not a file")) {
      try AtomicFile.write(Data("x".utf8), to: dir)
    }
    #expect(try FileManager.default.contentsOfDirectory(atPath: dir) == ["fifo"])
  }
}
