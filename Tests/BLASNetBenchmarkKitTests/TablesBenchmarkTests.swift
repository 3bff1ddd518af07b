import Testing

@testable import BLASNetBenchmarkKit

/// Issue 35 (4): the split `blasnet-bench --tables` gives every system, and its win / tie / loss rule.
@Suite struct TablesBenchmarkTests {
  typealias T = TablesBenchmark

  /// 3 classes of 92, 46 and 12 rows, interleaved.
  static let labels: [String] = (0..<150).map { i in i % 4 == 0 && i < 48 ? "c" : (i % 3 == 0 ? "b" : "a") }

  @Test func theSameSeedGivesTheSameRowsAndAnotherSeedOthers() {
    let a = T.split(labels: Self.labels, regression: false, seed: 7)
    let b = T.split(labels: Self.labels, regression: false, seed: 7)
    let c = T.split(labels: Self.labels, regression: false, seed: 8)
    #expect(a.train == b.train && a.test == b.test)
    #expect(a.test != c.test)
  }

  @Test func eachClassGivesATwentiethWithinOneRow() {
    for seed in UInt64(1)...5 {
      let (train, test) = T.split(labels: Self.labels, regression: false, seed: seed)
      for name in Set(Self.labels) {
        let all = Self.labels.filter { $0 == name }.count
        let held = test.filter { Self.labels[$0] == name }.count
        #expect(abs(Double(held) - 0.2 * Double(all)) <= 1, "class \(name): \(held) of \(all)")
        #expect(held >= 1 && held < all)
      }
      #expect(train.count + test.count == Self.labels.count)
    }
  }

  @Test func trainingAndTestRowsAreDisjointAndCoverTheTable() {
    for regression in [false, true] {
      let labels = regression ? (0..<203).map { String(Double($0 * 37 % 203) / 4) } : Self.labels
      let (train, test) = T.split(labels: labels, regression: regression, seed: 3)
      #expect(Set(train).isDisjoint(with: test))
      #expect((train + test).sorted() == Array(labels.indices))
      #expect(train == train.sorted() && test == test.sorted())
    }
  }

  @Test func aRegressionIsSplitByTenthsOfItsLabel() {
    let labels = (0..<200).map { String(Double(($0 * 71) % 200)) }
    let (_, test) = T.split(labels: labels, regression: true, seed: 1)
    #expect(test.count == 40)
    // Four rows from each tenth of the label's range (values 0–19, 20–39, …).
    var perTenth = [Int](repeating: 0, count: 10)
    for r in test { perTenth[Int(Double(labels[r])!) / 20] += 1 }
    #expect(perTenth == [Int](repeating: 4, count: 10))
  }

  @Test func oneMetricIsATieWithinItsMargin() {
    #expect(T.outcome(0.850, against: 0.846, margin: T.accuracyMargin) == .tie)
    #expect(T.outcome(0.850, against: 0.855, margin: T.accuracyMargin) == .tie)
    #expect(T.outcome(0.850, against: 0.8440, margin: T.accuracyMargin) == .win)
    #expect(T.outcome(0.850, against: 0.8560, margin: T.accuracyMargin) == .loss)
    #expect(T.outcome(0.910, against: 0.9151, margin: T.scoreMargin) == .loss)
  }

  static func summary(_ system: String, accuracy: Double? = nil, auc: Double? = nil, r2: Double? = nil)
    -> T.Summary
  {
    let s = T.Score(accuracy: accuracy, rocAUC: auc, r2: r2)
    return T.Summary(
      table: "t", system: system, runs: 5, refusedRuns: 0, refused: nil, mean: s, worst: s, meanSeconds: 1,
      constantRuns: 0)
  }

  @Test func aBinaryTableWinsOrTiesOnlyWhenBothMetricsAtLeastTie() {
    let peers = [Self.summary("MLP", accuracy: 0.86, auc: 0.90), Self.summary("HGB", accuracy: 0.88, auc: 0.93)]
    func judge(_ accuracy: Double, _ auc: Double) -> T.Outcome {
      T.compare(table: "t", kind: .binary, blasnet: Self.summary("BLASNet", accuracy: accuracy, auc: auc), peers: peers)
        .outcome
    }
    #expect(judge(0.879, 0.928) == .tie)  // both within the margins of HGB's
    #expect(judge(0.890, 0.927) == .win)  // accuracy wins, AUC ties
    #expect(judge(0.900, 0.900) == .loss)  // accuracy wins, AUC loses
    #expect(judge(0.860, 0.950) == .loss)  // AUC wins, accuracy loses
    let c = T.compare(
      table: "t", kind: .binary, blasnet: Self.summary("BLASNet", accuracy: 0.87, auc: 0.95), peers: peers)
    #expect(c.metrics.map(\.bestSystem) == ["HGB", "HGB"])
    #expect(c.metrics.map(\.outcome) == [.loss, .win])
  }

  @Test func theBestPeerIsChosenPerMetricAndRefusalsAreKeptApart() {
    let peers = [Self.summary("MLP", r2: 0.70), Self.summary("HGB", r2: 0.93)]
    let r = T.compare(table: "t", kind: .regression, blasnet: Self.summary("BLASNet", r2: 0.926), peers: peers)
    #expect(r.outcome == .tie && r.metrics.first?.bestSystem == "HGB")
    let m = T.compare(
      table: "t", kind: .multiclass, blasnet: Self.summary("BLASNet", accuracy: 0.97),
      peers: [Self.summary("MLP", accuracy: 0.95), Self.summary("HGB", accuracy: 0.96)])
    #expect(m.outcome == .win)
    var refused = Self.summary("BLASNet")
    refused.runs = 0
    #expect(T.compare(table: "t", kind: .binary, blasnet: refused, peers: peers).outcome == .refused)
  }
}
