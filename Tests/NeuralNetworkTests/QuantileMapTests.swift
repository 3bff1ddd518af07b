import Foundation
import LinearAlgebra
import NeuralNetwork
import Testing

/// The quantile map that scales numeric inputs by default (issue 35).
struct QuantileMapTests {
  /// Φ⁻¹ against Φ computed from `erfc` and inverted by bisection (an
  /// independent reference), from the far tails to the centre.
  @Test func theNormalQuantileInvertsTheNormalDistribution() {
    func phi(_ x: Double) -> Double { 0.5 * erfc(-x / 2.0.squareRoot()) }
    for p in [1e-12, 1e-7, 0.001, 0.02425, 0.1, 0.3, 0.5, 0.7, 0.975, 0.999, 1 - 1e-6] {
      var (low, high) = (-10.0, 10.0)
      for _ in 0..<200 {
        let mid = (low + high) / 2
        if phi(mid) < p { low = mid } else { high = mid }
      }
      let x = QuantileMap.normalQuantile(p)
      #expect(abs(x - low) <= 1e-9 * max(1, abs(low)), "p \(p): \(x) against \(low)")
    }
    #expect(QuantileMap.normalQuantile(0.5) == 0)
    #expect(abs(QuantileMap.normalQuantile(0.975) - 1.959963984540054) < 1e-12)
  }

  /// Four distinct values: each knot's score is Φ⁻¹ of its mid-rank share
  /// ((r + ½)/n), values between knots are interpolated, values beyond
  /// take the extremes' scores, and NaN stays NaN.
  @Test func aFittedMapGivesEachValueTheScoreOfItsMidRank() {
    let map = QuantileMap(fitting: [30, 10, 20, 40])
    #expect(map.knots == [10, 20, 30, 40])
    let expected = [0.125, 0.375, 0.625, 0.875].map(QuantileMap.normalQuantile)
    #expect(map.scores == expected)
    #expect(map(20) == expected[1])
    #expect(abs(map(25) - (expected[1] + expected[2]) / 2) < 1e-15)
    #expect(map(-1e30) == expected[0] && map(1e30) == expected[3])
    #expect(map(.nan).isNaN)
    #expect(map.problem == nil)
  }

  /// A discrete column: every row of a tied value shares its run's mid-rank
  /// (a 0/1 column with three zeros and one one: shares 3/8 and 7/8).
  @Test func tiedValuesShareTheirRunsMidRank() {
    let map = QuantileMap(fitting: [0, 1, 0, 0])
    #expect(map.knots == [0, 1])
    #expect(map.scores == [QuantileMap.normalQuantile(1.5 / 4), QuantileMap.normalQuantile(3.5 / 4)])
    let constant = QuantileMap(fitting: [7, 7, 7])
    #expect(constant.knots == [7] && constant.scores == [0])
    #expect(constant(3) == 0 && constant(9) == 0)
  }

  /// More distinct values than knots: the knots are at evenly spaced ranks,
  /// the extremes included, and the map is monotone.
  @Test func manyValuesKeepAtMostTheKnotsAsked() {
    let values = (0..<1000).map { Double($0 * $0) }
    let map = QuantileMap(fitting: values.shuffled(), maxKnots: 11)
    #expect(map.knots.count == 11)
    #expect(map.knots.first == 0 && map.knots.last == 999 * 999)
    #expect(map.knots[5] == 500 * 500)
    #expect(map.problem == nil)
    let mapped = stride(from: -10.0, through: 1e6, by: 997).map { map($0) }
    #expect(zip(mapped, mapped.dropFirst()).allSatisfy { $0 <= $1 })
  }

  /// The segment search (halving without branches) finds the segment a
  /// plain scan finds, for any knot count: on every knot, between knots,
  /// at and beyond both ends; the value is the same to the last bit.
  @Test func theMapInterpolatesInTheSegmentAScanFinds() {
    var g = Xoshiro256StarStar(seed: 5)
    for count in [2, 3, 4, 7, 64, 127, 128] {
      var knots: [Double] = [-3]
      for _ in 1..<count { knots.append(knots.last! + 0.01 + Double(g.next() % 1000) / 100) }
      let scores = knots.indices.map { Double($0) * 0.5 - Double(g.next() % 100) / 1000 }
      let map = QuantileMap(knots: knots, scores: scores)
      var xs = knots + [knots[0] - 1, knots[count - 1] + 1, .infinity, -.infinity]
      for k in 0..<(count - 1) { xs += [knots[k] + (knots[k + 1] - knots[k]) * 0.3, knots[k + 1].nextDown] }
      for x in xs {
        var expected: Double
        if x <= knots[0] {
          expected = scores[0]
        } else if x >= knots[count - 1] {
          expected = scores[count - 1]
        } else {
          let low = knots.lastIndex { $0 <= x }!
          let t = (x - knots[low]) / (knots[low + 1] - knots[low])
          expected = scores[low] + t * (scores[low + 1] - scores[low])
        }
        #expect(map(x) == expected, "\(count) knots, x = \(x)")
      }
      #expect(map(.nan).isNaN)
    }
  }

  @Test func aDamagedMapIsNamed() {
    #expect(QuantileMap(knots: [], scores: []).problem != nil)
    #expect(QuantileMap(knots: [1, 2], scores: [0]).problem?.contains("1 scores") == true)
    #expect(QuantileMap(knots: [2, 1], scores: [0, 1]).problem == "the knots do not increase")
    #expect(QuantileMap(knots: [1, 2], scores: [1, 0]).problem == "the scores decrease")
    #expect(QuantileMap(knots: [1, .infinity], scores: [0, 1]).problem == "a knot or score is not finite")
  }

  /// The standardizer maps, then standardises with the mapped statistics:
  /// the training values come out with mean 0 and standard deviation 1.
  @Test func aStandardizerWithMapsStandardisesTheMappedValues() throws {
    let x = try Matrix<Double>(rows: 2, columns: 5, rowMajor: [1, 2, 3, 100, 1000, 5, 6, 7, 8, 9])
    let maps = [QuantileMap(fitting: [1, 2, 3, 100, 1000]), nil]
    let s = Standardizer.fitting(x, quantileMaps: maps)
    let scaled = s.transform(x)
    for i in 0..<2 {
      let row = (0..<5).map { scaled[i, $0] }
      let mean = row.reduce(0, +) / 5
      let sd = (row.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / 5).squareRoot()
      #expect(abs(mean) < 1e-12 && abs(sd - 1) < 1e-12)
    }
    // The first row's mapped values are symmetric scores: 1000 is no further out than 1.
    #expect(abs(scaled[0, 0] + scaled[0, 4]) < 1e-12)
  }
}
