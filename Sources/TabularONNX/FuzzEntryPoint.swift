import Tabular

/// What the libFuzzer harness in Tests/Fuzz/fuzz-onnx calls (scripts/fuzz.sh).
package enum ONNXFuzzEntryPoint {
  /// ONNX bytes decoded and imported; a model that comes out must predict a
  /// probability for an all-zero example (as every importer's must), export
  /// to ONNX again, and that export must import to a network of the same sizes.
  package static func onnx(_ bytes: [UInt8]) {
    FuzzEntryPoints.imported { () throws(ImportError) in
      let report = try TabularModel.importWeights(onnxBytes: bytes, path: "fuzz.onnx", activations: nil)
      do {
        let again = try TabularModel.importWeights(
          onnxBytes: report.model.onnxModel(), path: "fuzz-again.onnx", activations: nil)
        if again.model.network.sizes != report.model.network.sizes {
          fatalError("re-imported \(again.model.network.sizes) from an export of \(report.model.network.sizes)")
        }
      } catch {
        fatalError("an imported model does not export and import again: \(error)")
      }
      return report
    }
  }
}
