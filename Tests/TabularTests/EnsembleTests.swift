import Foundation
import LinearAlgebra
import NeuralNetwork
import Tabular
import Testing

/// Issue 35, point 3: ensembles of networks, averaged.
@Suite struct EnsembleTests {
  let wdbc = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .appendingPathComponent("NeuralNetworkTests/Fixtures/wdbc.csv").path

  func fit(ensemble: Int, seed: UInt64 = 42) throws -> TabularModel.FitReport {
    var o = TabularModel.FitOptions()
    o.ensembleSize = ensemble
    o.seed = seed
    o.bootstrap = 0
    return try TabularModel.fit(.csvFile(wdbc), options: o)
  }

  /// Two networks train at the same time: the first is, bit for bit, the
  /// network a fit of one trains (same seed, one BLAS thread each); the
  /// second starts from other weights; the model's probability of a row is
  /// the mean of the two networks' own.
  @Test func theFirstNetworkIsTheSingleFitsAndTheModelAveragesThem() throws {
    let single = try fit(ensemble: 1)
    let pair = try fit(ensemble: 2)
    #expect(pair.model.networks.count == 2 && single.model.networks.count == 1)
    #expect(pair.model.networks[0] == single.model.network)
    #expect(pair.model.networks[1] != pair.model.networks[0])
    #expect(pair.preparation.ensembleSize == 2)
    let x = try #require(pair.model.standardizer).transform(pair.test.x)
    let both = pair.model.probabilities(standardizedInputs: x)
    var alone = [Matrix<Float>]()
    for network in pair.model.networks {
      var one = pair.model
      one.networks = [network]
      alone.append(one.probabilities(standardizedInputs: x))
    }
    #expect(both.columns == 114)
    for j in 0..<both.columns {
      #expect(both[0, j] == (alone[0][0, j] + alone[1][0, j]) / 2, "row \(j)")
    }
    // Fitted again: the same two networks.
    #expect(try fit(ensemble: 2).model == pair.model)
  }

  /// An ensemble is model file version 7 and loads back equal; its other
  /// networks are checked like the first, and an older version or a
  /// network of other sizes is refused naming it.
  @Test func anEnsembleFileIsVersion7AndChecked() throws {
    let model = try fit(ensemble: 3).model
    let json = String(decoding: try model.encoded(), as: UTF8.self)
    #expect(json.contains(#""version":7"#) && json.contains(#""ensemble":[["#))
    #expect(try TabularModel.decode(try model.encoded()) == model)
    func refusal(_ text: String) -> String {
      do {
        _ = try TabularModel.decode(Data(text.utf8))
        return "loaded"
      } catch {
        return "\(error)"
      }
    }
    #expect(
      refusal(json.replacingOccurrences(of: #""version":7"#, with: #""version":6"#)).contains(
        "an ensemble needs format version 7, the file says 6"))
    // The third network's first weight matrix named as the second's bias: one parameter twice.
    let object = try #require(try JSONSerialization.jsonObject(with: model.encoded()) as? [String: Any])
    var ensemble = try #require(object["ensemble"] as? [[[String: Any]]])
    ensemble[1][0]["name"] = "b1"
    var damaged = object
    damaged["ensemble"] = ensemble
    let text = String(decoding: try JSONSerialization.data(withJSONObject: damaged), as: UTF8.self)
    #expect(refusal(text).contains("the ensemble's network 3: parameter b1 appears twice"), "\(refusal(text))")
    var empty = object
    empty["ensemble"] = [[[String: Any]]]()
    #expect(
      refusal(String(decoding: try JSONSerialization.data(withJSONObject: empty), as: UTF8.self)).contains(
        "\"ensemble\" lists no network"))
  }
}
