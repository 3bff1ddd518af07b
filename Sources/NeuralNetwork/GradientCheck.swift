import LinearAlgebra

/// Compares backpropagation with central finite differences.
public enum GradientCheck {
  /// The relative difference `‖g − g_num‖ / (‖g‖ + ‖g_num‖)` over every
  /// parameter, where `g` comes from backpropagation and
  ///
  ///     g_num[θ] = (J(θ + ε) − J(θ − ε)) / 2ε
  ///
  /// perturbs one scalar at a time. Run it in `Double`: below about 1e-7 the
  /// gradients agree; above 1e-3 something is wrong. Dropout is off; the L2
  /// term is included when `l2 > 0`. Costs 2·(parameter count) forward passes.
  public static func relativeDifference(
    network: Network<Double>, x: Matrix<Double>, y: Matrix<Double>, loss: Loss? = nil, l2: Double = 0,
    epsilon: Double = 1e-6
  ) throws(TrainingError) -> Double {
    let options = TrainingOptions(l2: l2, loss: loss)
    var trainer = try Trainer(network: network, options: options)
    let analytic = trainer.costAndGradients(x: x, y: y).gradients
    var differenceSquared = 0.0
    var analyticSquared = 0.0
    var numericSquared = 0.0
    for name in network.parameterNames {
      let l = Int(name.dropFirst())!
      let isWeight = name.hasPrefix("W")
      let original = isWeight ? network.weights(l) : network.bias(l)
      let g = analytic[name]!
      for k in 0..<original.count {
        var probe = network
        var plus = original
        var minus = original
        plus.withUnsafeMutableBufferPointer { $0[k] += epsilon }
        minus.withUnsafeMutableBufferPointer { $0[k] -= epsilon }
        if isWeight { probe.setWeights(l, plus) } else { probe.setBias(l, plus) }
        let jPlus = probe.cost(x: x, y: y, loss: loss, l2: l2)
        if isWeight { probe.setWeights(l, minus) } else { probe.setBias(l, minus) }
        let jMinus = probe.cost(x: x, y: y, loss: loss, l2: l2)
        let numeric = (jPlus - jMinus) / (2 * epsilon)
        let a = g.elements[k]
        differenceSquared += (a - numeric) * (a - numeric)
        analyticSquared += a * a
        numericSquared += numeric * numeric
      }
    }
    let denominator = analyticSquared.squareRoot() + numericSquared.squareRoot()
    return denominator == 0 ? 0 : differenceSquared.squareRoot() / denominator
  }
}
