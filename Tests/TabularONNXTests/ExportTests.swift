import Foundation
import LinearAlgebra
import NeuralNetwork
import Tabular
import Testing

@testable import TabularONNX

@Suite struct ONNXExportTests {
  /// A 2-3-1 network with a standardizer: the first layer of the graph is
  /// W/σ and b − W·(μ/σ), computed by hand here.
  @Test func standardisationIsFoldedIntoTheFirstLayer() throws {
    let w1 = try Matrix<Float>([[1, -2], [0.5, 4], [-1, 1]])
    let b1 = Matrix<Float>(column: [0.1, -0.2, 0.3])
    let w2 = try Matrix<Float>([[1, 1, -1]])
    let network = try Network<Float>(
      parameters: ["W1": w1, "b1": b1, "W2": w2, "b2": Matrix(column: [0.5])], activations: [.relu, .sigmoid])
    let model = TabularModel(
      network: network, standardizer: Standardizer(means: [10, -3], standardDeviations: [2, 0.5]),
      featureNames: ["a", "b"], labelName: "y", classNames: ["no", "yes"])
    let bytes = try model.onnxModel()
    let parsed = try Onnx_ModelProto(serializedBytes: bytes)
    let first = try #require(parsed.graph.initializer.first { $0.name.hasPrefix("W1") })
    #expect(first.dims == [3, 2])
    let expected: [Float] = [0.5, -4, 0.25, 8, -0.5, 2]
    #expect(zip(first.floatData, expected).allSatisfy { abs($0 - $1) < 1e-6 }, "\(first.floatData)")
    let bias = try #require(parsed.graph.initializer.first { $0.name.hasPrefix("b1") })
    // b − W·(μ/σ): 0.1 − (1·5 + (−2)(−6)) = −16.9; −0.2 − (2.5 − 24) = 21.3; 0.3 − (−5 − 6) = 11.3
    #expect(
      zip(bias.floatData, [-16.9, 21.3, 11.3] as [Float]).allSatisfy { abs($0 - $1) < 1e-5 }, "\(bias.floatData)")
    #expect(parsed.graph.output.map(\.name) == ["probabilities", "probability", "class_index"])
    let metadata = Dictionary(uniqueKeysWithValues: parsed.metadataProps.map { ($0.key, $0.value) })
    #expect(metadata["class_names"] == "[\"no\",\"yes\"]" && metadata["input_columns"] == "[\"a\",\"b\"]")
  }
}
