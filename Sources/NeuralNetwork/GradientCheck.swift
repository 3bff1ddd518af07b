import LinearAlgebra

/// Compares backpropagation with central finite differences.
public enum GradientCheck {
  /// The relative difference `‖g − g_num‖ / (‖g‖ + ‖g_num‖)` over every
  /// parameter, where `g` comes from backpropagation and `g_num` from
  /// ``numericalGradients(network:x:y:loss:l2:epsilon:)``.
  ///
  /// Run it in `Double`: below about 1e-7 the gradients agree; above 1e-3
  /// something is wrong. Dropout is off; the L2 term is included when `l2 > 0`.
  public static func relativeDifference(
    network: Network<Double>, x: Matrix<Double>, y: Matrix<Double>, loss: Loss? = nil, l2: Double = 0,
    epsilon: Double = 1e-6
  ) throws(TrainingError) -> Double {
    var trainer = try Trainer(network: network, options: TrainingOptions(l2: l2, loss: loss))
    let analytic = trainer.costAndGradients(x: x, y: y).gradients
    let numeric = try numericalGradients(network: network, x: x, y: y, loss: loss, l2: l2, epsilon: epsilon)
    return relativeDifference(analytic, numeric)
  }

  /// `(J(θ + ε) − J(θ − ε)) / 2ε` for every scalar θ of every parameter, by name.
  /// Costs 2·(parameter count) forward passes.
  public static func numericalGradients(
    network: Network<Double>, x: Matrix<Double>, y: Matrix<Double>, loss: Loss? = nil, l2: Double = 0,
    epsilon: Double = 1e-6
  ) throws(TrainingError) -> [String: Matrix<Double>] {
    _ = try Trainer(network: network, options: TrainingOptions(l2: l2, loss: loss))  // validates the loss
    var result: [String: Matrix<Double>] = [:]
    for name in network.parameterNames {
      let l = Int(name.dropFirst())!
      let isWeight = name.hasPrefix("W")
      let original = isWeight ? network.weights(l) : network.bias(l)
      var gradient = Matrix<Double>.zeros(original.rows, original.columns)
      for k in 0..<original.count {
        func cost(shift: Double) -> Double {
          var probe = network
          var p = original
          p.withUnsafeMutableBufferPointer { $0[k] += shift }
          if isWeight { probe.setWeights(l, p) } else { probe.setBias(l, p) }
          return probe.cost(x: x, y: y, loss: loss, l2: l2)
        }
        let g = (cost(shift: epsilon) - cost(shift: -epsilon)) / (2 * epsilon)
        gradient.withUnsafeMutableBufferPointer { $0[k] = g }
      }
      result[name] = gradient
    }
    return result
  }

  /// `‖a − b‖ / (‖a‖ + ‖b‖)` over all parameters present in both (traps if the names or shapes differ).
  public static func relativeDifference(_ a: [String: Matrix<Double>], _ b: [String: Matrix<Double>]) -> Double {
    if Set(a.keys) != Set(b.keys) {
      shapeFailure("GradientCheck: parameter names differ: \(a.keys.sorted()) vs \(b.keys.sorted())")
    }
    var difference = 0.0
    var normA = 0.0
    var normB = 0.0
    for (name, ga) in a {
      let gb = b[name]!
      let d = ga - gb
      difference += d.norm() * d.norm()
      normA += ga.norm() * ga.norm()
      normB += gb.norm() * gb.norm()
    }
    let denominator = normA.squareRoot() + normB.squareRoot()
    return denominator == 0 ? 0 : difference.squareRoot() / denominator
  }
}
