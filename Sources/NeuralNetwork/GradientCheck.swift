import LinearAlgebra

/// Compares backpropagation with central finite differences.
public enum GradientCheck {
  /// The relative difference `‖g − g_num‖ / (‖g‖ + ‖g_num‖)` over every
  /// parameter, where `g` comes from ``Network/gradients(x:y:loss:l2:weights:keepIntermediates:)``
  /// and `g_num` from ``numericalGradients(network:x:y:loss:l2:epsilon:)``.
  ///
  /// Run it in `Double`: below about 1e-7 the gradients agree; above 1e-3
  /// something is wrong. The L2 term is included when `l2 > 0`.
  public static func relativeDifference(
    network: Network<Double>, x: Matrix<Double>, y: Matrix<Double>, loss: Loss? = nil, l2: Double = 0,
    epsilon: Double = 1e-6
  ) throws(TrainingError) -> Double {
    try check(network, loss)
    let analytic = network.gradients(x: x, y: y, loss: loss, l2: l2)
    let numeric = try numericalGradients(network: network, x: x, y: y, loss: loss, l2: l2, epsilon: epsilon)
    return relativeDifference(analytic, numeric)
  }

  static func check(_ network: Network<Double>, _ loss: Loss?) throws(TrainingError) {
    _ = try TrainingOptions(loss: loss).validatedLoss(output: network.outputActivation)
  }

  /// `(J(θ + ε) − J(θ − ε)) / 2ε` for every scalar θ of every parameter, each
  /// J from ``Network/cost(x:y:loss:l2:weights:)`` (a forward pass).
  /// Costs 2·(parameter count) forward passes.
  public static func numericalGradients(
    network: Network<Double>, x: Matrix<Double>, y: Matrix<Double>, loss: Loss? = nil, l2: Double = 0,
    epsilon: Double = 1e-6
  ) throws(TrainingError) -> Gradients<Double> {
    try check(network, loss)
    var result = Gradients(zerosLike: network)
    for l in 1...network.depth {
      for isWeight in [true, false] {
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
        if isWeight { result.weights[l - 1] = gradient } else { result.biases[l - 1] = gradient }
      }
    }
    return result
  }

  /// `‖a − b‖ / (‖a‖ + ‖b‖)` over all weight and bias gradients (traps if the shapes differ).
  public static func relativeDifference(_ a: Gradients<Double>, _ b: Gradients<Double>) -> Double {
    if a.depth != b.depth {
      shapeFailure("GradientCheck: \(a.depth) layers of gradients against \(b.depth)")
    }
    var difference = 0.0
    var normA = 0.0
    var normB = 0.0
    for (ga, gb) in zip(a.weights + a.biases, b.weights + b.biases) {
      let d = ga - gb
      difference += d.norm() * d.norm()
      normA += ga.norm() * ga.norm()
      normB += gb.norm() * gb.norm()
    }
    let denominator = normA.squareRoot() + normB.squareRoot()
    return denominator == 0 ? 0 : difference.squareRoot() / denominator
  }
}
