import Foundation
import LinearAlgebra
import Tabular
import Testing

@testable import BLASNetCLI

#if canImport(FoundationXML)
  import FoundationXML
#endif

/// Issue 10: validation split, early stopping, class weights, the two-curve plot.
@Suite(.serialized) struct ValidationCLITests {
  @Test func patienceStopsEarlyAndKeepsTheBestEpoch() throws {
    try withTemporaryFolder { folder in
      let r = try CLI.run(
        ["train", "--quiet", "--patience", "5", "--learning-rate", "0.01", "--epochs", "500", "--ensemble", "1"],
        in: folder)
      #expect(r.status == 0, "\(r.stderr)")
      let stopped = try #require(r.stdout.split(separator: "\n").first { $0.hasPrefix("Stopped: early at epoch ") })
      let numbers = stopped.split(whereSeparator: { !$0.isNumber }).compactMap { Int($0) }
      // "Stopped: early at epoch E, after 5 epochs …; kept the weights of epoch B (validation cost 0.0618)"
      let (last, patience, best) = (numbers[0], numbers[1], numbers[2])
      #expect(patience == 5 && last == best + 5 && last < 500, "\(stopped)")
      #expect(r.stdout.contains("Trained: \(last) epochs"))
      let svg = try String(contentsOf: folder.appendingPathComponent("blasnet-cost.svg"), encoding: .utf8)
      #expect(svg.contains(">best, epoch \(best)</text>"))
      #expect(try #require(metric(r.stdout, "accuracy", column: 2)) >= 0.93)
    }
  }

  /// Each network of the default ensemble stops on its own; the lines name both, the first first.
  @Test func eachNetworkOfAnEnsembleStopsOnItsOwn() throws {
    try withTemporaryFolder { folder in
      let r = try CLI.run(
        ["train", "--quiet", "--patience", "5", "--learning-rate", "0.01", "--epochs", "500"], in: folder)
      #expect(r.status == 0, "\(r.stderr)")
      let stopped = try #require(r.stdout.split(separator: "\n").first { $0.hasPrefix("Stopped: early at epochs ") })
      let numbers = stopped.split(whereSeparator: { !$0.isNumber }).compactMap { Int($0) }
      // "Stopped: early at epochs E1 and E2, each after 5 epochs …; kept the weights of epochs B1 and B2 (…)"
      let (last, patience, best) = ([numbers[0], numbers[1]], numbers[2], [numbers[3], numbers[4]])
      #expect(patience == 5 && last == best.map { $0 + 5 } && last.allSatisfy { $0 < 500 }, "\(stopped)")
      #expect(r.stdout.contains("Trained: 2 networks, \(last[0]) and \(last[1]) epochs, in "), "\(r.stdout)")
      let svg = try String(contentsOf: folder.appendingPathComponent("blasnet-cost.svg"), encoding: .utf8)
      #expect(svg.contains(">best, epoch \(best[0])</text>"))
    }
  }

  @Test func noValidationSplitMeansOneCurveAndNoPatience() throws {
    try withTemporaryFolder { folder in
      let r = try CLI.run(["train", "--quiet", "--epochs", "5", "--validation-fraction", "0"], in: folder)
      #expect(r.status == 0, "\(r.stderr)")
      #expect(r.stdout.contains("455 train / 114 test (stratified"))
      let svg = try String(contentsOf: folder.appendingPathComponent("blasnet-cost.svg"), encoding: .utf8)
      #expect(svg.components(separatedBy: "<polyline").count == 2)
      let refused = try CLI.run(["train", "--validation-fraction", "0", "--patience", "3"], in: folder)
      #expect(
        errorLine(refused).contains("--patience watches the validation cost: it needs --validation-fraction above 0"))
      #expect(
        errorLine(try CLI.run(["train", "--validation-fraction", "1"], in: folder)).contains(
          "--validation-fraction must be in [0, 1)"))
    }
  }

  @Test func classWeightsBalancedNamedAndRefused() throws {
    try withTemporaryFolder { folder in
      let balanced = try CLI.run(["train", "--quiet", "--epochs", "3", "--class-weight", "balanced"], in: folder)
      #expect(balanced.status == 0, "\(balanced.stderr)")
      let line = try #require(balanced.stdout.split(separator: "\n").first { $0.hasPrefix("Weights: ") })
      // "Weights: 0 → 0.798, 1 → 1.338 (…)": w_k = m / (2 · count_k), so the counts come back and add up to m = 364.
      let w = line.split(separator: " ").compactMap { Double($0.trimmingCharacters(in: .punctuationCharacters)) }
        .filter { $0 != 0 && $0 != 1 }
      #expect(w.count == 2, "\(line)")
      let counts = w.map { 364 / (2 * $0) }
      #expect(Swift.abs(counts[0] + counts[1] - 364) < 1, "\(line)")
      #expect(counts.allSatisfy { Swift.abs($0 - $0.rounded()) < 0.3 }, "\(line)")
      let named = try CLI.run(["train", "--quiet", "--epochs", "3", "--class-weight", "1=5"], in: folder)
      #expect(named.stdout.contains("Weights: 0 → 1.000, 1 → 5.000"), "\(named.stdout)")
      #expect(
        errorLine(try CLI.run(["train", "--class-weight", "2=1"], in: folder))
          == "blasnet: error: --class-weight: \"2=1\" is not CLASS=WEIGHT for one of the classes \"0\", \"1\" (or use balanced or none)"
      )
      #expect(
        errorLine(try CLI.run(["train", "--class-weight", "1=-3"], in: folder)).contains(
          "the weight of class 1 must be a number ≥ 0, got \"-3\""))
    }
  }

  @Test func thePlotsAreWellFormedXMLThatRendersWithRoundTicks() throws {
    try withTemporaryFolder { folder in
      #expect(try CLI.run(["train", "--quiet", "--epochs", "40", "--roc", "roc.svg"], in: folder).status == 0)
      for name in ["blasnet-cost.svg", "roc.svg"] {
        let data = try Data(contentsOf: folder.appendingPathComponent(name))
        let parser = XMLParser(data: data)
        #expect(parser.parse(), "\(name): \(parser.parserError.map { "\($0)" } ?? "")")
        // Rendered by librsvg (scripts/test.sh installs rsvg-convert) into a 640 × 400 PNG.
        guard
          let rsvg = ["/usr/bin/rsvg-convert", "/usr/local/bin/rsvg-convert"].first(where: {
            FileManager.default.isExecutableFile(atPath: $0)
          })
        else {
          #expect(
            ProcessInfo.processInfo.environment["CI"] == nil,
            "CI must have rsvg-convert (scripts/ensure-deps.sh --tests)")
          continue
        }
        let render = Process()
        render.executableURL = URL(fileURLWithPath: rsvg)
        render.arguments = [
          folder.appendingPathComponent(name).path, "-o", folder.appendingPathComponent(name + ".png").path,
        ]
        try render.run()
        render.waitUntilExit()
        #expect(render.terminationStatus == 0, "\(name)")
        let png = [UInt8](try Data(contentsOf: folder.appendingPathComponent(name + ".png")))
        #expect(png.starts(with: [0x89, 0x50, 0x4E, 0x47]), "\(name): not a PNG")
        // IHDR: width and height, big-endian, at bytes 16 and 20.
        let size = [16, 20].map { o in png[o..<(o + 4)].reduce(0) { $0 << 8 | Int($1) } }
        #expect(size == [640, 400], "\(name)")
      }
    }
    #expect(Chart.niceTicks(upTo: 0.77) == [0, 0.2, 0.4, 0.6000000000000001, 0.8])
    #expect(Chart.niceTicks(upTo: 300) == [0, 100, 200, 300])
    #expect(Chart.niceTicks(upTo: 7) == [0, 2, 4, 6, 8])
    #expect(Chart.niceTicks(upTo: 1) == [0, 0.5, 1])
    #expect(Chart.tickLabel(0.6000000000000001) == "0.6" && Chart.tickLabel(0) == "0")
  }

  /// Issue 11: on a CPU whose AVX2 or AVX-512 OpenBLAS's kernels do not use,
  /// blasnet restarts once with OPENBLAS_CORETYPE set. Faked here by telling
  /// it that OpenBLAS chose its generic Prescott kernels.
  @Test func genericKernelsMakeBlasnetRestartOnceWithMatchingOnes() throws {
    let cpu = BLAS.CPUFeatures.current
    let expected = BLAS.suggestedCoreType(kernel: "Prescott", cpu: cpu)
    let preset = ProcessInfo.processInfo.environment["OPENBLAS_CORETYPE"]
    try withTemporaryFolder { folder in
      let r = try CLI.run(
        ["train", "--quiet", "--epochs", "2"], in: folder, environment: [BLAS.simulatedKernelVariable: "Prescott"])
      #expect(r.status == 0, "\(r.stderr)")
      let header = try #require(r.stdout.split(separator: "\n").first { $0.hasPrefix("BLAS:    ") })
      #if BLIS && !OpenBLAS
        // BLIS chooses its configuration from the CPU's features: nothing to restart for.
        let restarts = false
      #else
        let restarts = expected != nil && preset == nil
      #endif
      if let expected, restarts {
        #expect(
          r.kernelNotes == [
            "blasnet: note: OpenBLAS chose its Prescott kernels, which do not use this CPU's \(cpu.avx512 ? "AVX-512" : "AVX2 and FMA"); restarting with OPENBLAS_CORETYPE=\(expected) (set OPENBLAS_CORETYPE yourself to choose)"
          ])
        // The restarted process runs the kernels it was told to.
        #expect(header.contains("kernel \(expected),"), "\(header)")
      } else {
        // BLIS, no AVX2 to use, or the user's own OPENBLAS_CORETYPE: no restart.
        #expect(r.kernelNotes.isEmpty)
      }
      // A user's OPENBLAS_CORETYPE is kept as it is.
      let kept = try CLI.run(
        ["train", "--quiet", "--epochs", "2"], in: folder,
        environment: [BLAS.simulatedKernelVariable: "Prescott", "OPENBLAS_CORETYPE": preset ?? "Prescott"])
      #expect(kept.status == 0 && kept.kernelNotes.isEmpty, "\(kept.stderr)")
    }
  }
}
