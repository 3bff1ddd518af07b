/// Keeps a value alive and opaque to the optimiser, so a measured computation is not removed.
@inline(never)
public func opaqueUse<T>(_ value: T) {
  withExtendedLifetime(value) {}
}

func seconds(_ d: Duration) -> Double {
  Double(d.components.seconds) + Double(d.components.attoseconds) * 1e-18
}

/// Wall-clock timings of repeated runs of one piece of work.
public struct Timing: Sendable {
  /// Seconds per run, sorted ascending.
  public var samples: [Double]

  public var median: Double { samples[samples.count / 2] }
  public var best: Double { samples[0] }

  /// Runs `body` once to warm up, then repeatedly until `budget` seconds have
  /// passed and at least `minimumRuns` runs are in (at most `maximumRuns`).
  public static func measure(
    budget: Double = 0.3, minimumRuns: Int = 5, maximumRuns: Int = 10_000, _ body: () -> Void
  ) -> Timing {
    let clock = ContinuousClock()
    body()
    var samples: [Double] = []
    var total = 0.0
    while samples.count < minimumRuns || (total < budget && samples.count < maximumRuns) {
      let s = seconds(clock.measure(body))
      samples.append(s)
      total += s
    }
    return Timing(samples: samples.sorted())
  }

  /// Times two pieces of work in alternation (a, b, a, b, ...), so that a
  /// change in the machine's load or clock affects both alike.
  public static func compare(
    budget: Double = 0.3, minimumRuns: Int = 5, _ first: () -> Void, _ second: () -> Void
  ) -> (Timing, Timing) {
    let clock = ContinuousClock()
    first()
    second()
    var a: [Double] = []
    var b: [Double] = []
    var total = 0.0
    while a.count < minimumRuns || total < budget {
      let x = seconds(clock.measure(first))
      let y = seconds(clock.measure(second))
      a.append(x)
      b.append(y)
      total += x + y
    }
    return (Timing(samples: a.sorted()), Timing(samples: b.sorted()))
  }
}
