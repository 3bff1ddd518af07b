import Foundation

extension BenchmarkReport {
  /// The tables a person reads at a glance.
  public var text: String {
    var s = "BLAS: \(blas)\nkernel: \(kernel), threads: \(threads), CPU: \(cpu)\n"
    if let peak {
      s +=
        "FMA peak, measured: \(f(peak.gflops, 1)) GFLOP/s (\(peak.instructions) FMA chains on \(peak.threads) threads)\n"
    }
    s += "\n"
    s += "Square sgemm (GFLOP/s; median of repeated runs)\n"
    s += "      n     naive      BLAS   direct cblas   API/direct   BLAS/naive\n"
    for r in gemm {
      s += pad(String(r.n), 7) + pad(r.naive.map { f($0, 2) } ?? "—", 10) + pad(f(r.blas, 2), 10)
      s += pad(f(r.direct, 2), 15) + pad(f(100 * r.blas / r.direct, 1) + " %", 13)
      s += pad(r.speedup.map { "×" + f($0, 1) } ?? "—", 13) + "\n"
    }
    if let c = crossover {
      s += "BLAS is faster than the naive loop from n = \(c) on (every measured size ≥ \(c)).\n"
    } else {
      s += "The naive loop was never beaten at every size from some n on.\n"
    }
    s += "\nReference networks, one training iteration (forward + cost + backward + update, full batch, Float)\n"
    s +=
      "network  sizes                    m      BLAS ms   naive ms   speedup   GFLOP/s   products ms   in BLAS   predict ms"
    s += peak == nil ? "" : "   of peak"
    s += numpyColumns ? "   NumPy ms   NumPy/BLASNet" : ""
    s += torchColumns ? "   PyTorch ms   PyTorch/BLASNet\n" : "\n"
    for n in networks {
      s += n.name.padding(toLength: 9, withPad: " ", startingAt: 0)
      s += n.sizes.map(String.init).joined(separator: ",").padding(toLength: 22, withPad: " ", startingAt: 0)
      s += pad(String(n.examples), 6) + pad(f(n.blasMilliseconds, 3), 13)
      s += pad(n.naiveMilliseconds.map { f($0, 1) } ?? "—", 11)
      s += pad(n.naiveMilliseconds.map { "×" + f($0 / n.blasMilliseconds, 0) } ?? "—", 10)
      s += pad(f(n.achievedGFLOPs, 1), 10) + pad(f(n.gemmMilliseconds, 3), 14)
      s += pad(f(100 * n.blasShare, 1) + " %", 10) + pad(f(n.predictMilliseconds, 3), 13)
      if let peak { s += pad(f(100 * n.achievedGFLOPs / peak.gflops, 1) + " %", 10) }
      if numpyColumns {
        s += pad(n.numpyMilliseconds.map { f($0, 3) } ?? "—", 11)
        s += pad(n.numpyMilliseconds.map { "×" + f($0 / n.blasMilliseconds, 2) } ?? "—", 16)
      }
      if torchColumns {
        s += pad(n.torchMilliseconds.map { f($0, 3) } ?? "—", 13)
        s += pad(n.torchMilliseconds.map { "×" + f($0 / n.blasMilliseconds, 2) } ?? "—", 18)
      }
      s += "\n"
    }
    s += "\nThe products of each iteration, alone (GFLOP/s, and the kernel the dispatch chose on this machine)\n"
    for p in products {
      s += "  " + p.network.padding(toLength: 6, withPad: " ", startingAt: 0)
      s += p.label.padding(toLength: 20, withPad: " ", startingAt: 0) + p.form + pad(p.shape, 20)
      s += pad(f(p.gflops, 1), 9) + "   " + (p.kernel ?? "—") + "\n"
    }
    return s
  }

  var numpyColumns: Bool { networks.contains { $0.numpyMilliseconds != nil } }
  var torchColumns: Bool { networks.contains { $0.torchMilliseconds != nil } }

  /// The report as pretty-printed JSON.
  public var json: Data {
    let e = JSONEncoder()
    e.outputFormatting = [.prettyPrinted, .sortedKeys]
    return (try? e.encode(self)) ?? Data()
  }

  /// GFLOP/s against n on log–log axes, one line per kernel.
  public var svg: String {
    let (w, h) = (720.0, 440.0)
    let (left, right, top, bottom) = (70.0, 170.0, 40.0, 50.0)
    let ns = gemm.map { Double($0.n) }
    let values = gemm.flatMap { [$0.naive, $0.blas, $0.direct].compactMap { $0 } }.filter { $0 > 0 }
    guard let nMin = ns.min(), let nMax = ns.max(), let vMin = values.min(), let vMax = values.max(), nMax > nMin
    else { return "<svg xmlns=\"http://www.w3.org/2000/svg\"/>\n" }
    let lo = floor(log10(vMin))
    let hi = ceil(log10(vMax))
    func x(_ n: Double) -> Double { left + (w - left - right) * log2(n / nMin) / log2(nMax / nMin) }
    func y(_ v: Double) -> Double { h - bottom - (h - top - bottom) * (log10(v) - lo) / max(hi - lo, 1) }
    var s = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(Int(w))\" height=\"\(Int(h))\" "
    s += "font-family=\"sans-serif\" font-size=\"12\">\n<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n"
    s += "<text x=\"\(Int((left + w - right) / 2))\" y=\"22\" text-anchor=\"middle\" font-size=\"14\">"
    s += "Square sgemm: GFLOP/s against n (\(kernel), \(threads) threads)</text>\n"
    var e = lo
    while e <= hi {
      let v = pow(10, e)
      s += "<line x1=\"\(left)\" y1=\"\(y(v))\" x2=\"\(w - right)\" y2=\"\(y(v))\" stroke=\"#ddd\"/>\n"
      s +=
        "<text x=\"\(left - 6)\" y=\"\(y(v) + 4)\" text-anchor=\"end\">\(v >= 1 ? String(Int(v)) : String(v))</text>\n"
      e += 1
    }
    for n in gemm.map(\.n) {
      s += "<text x=\"\(x(Double(n)))\" y=\"\(h - bottom + 18)\" text-anchor=\"middle\">\(n)</text>\n"
    }
    s += "<text x=\"\(Int((left + w - right) / 2))\" y=\"\(Int(h - 12))\" text-anchor=\"middle\">n (log scale)</text>\n"
    s += "<text x=\"16\" y=\"\(Int(h / 2))\" text-anchor=\"middle\" transform=\"rotate(-90 16 \(Int(h / 2)))\">"
    s += "GFLOP/s (log scale)</text>\n"
    let series: [(String, String, (GEMMResult) -> Double?)] = [
      ("naive loop", "#d62728", { $0.naive }), ("BLAS via Matrix", "#1f77b4", { $0.blas }),
      ("direct cblas_sgemm", "#2ca02c", { $0.direct }),
    ]
    for (k, (name, color, value)) in series.enumerated() {
      let points = gemm.compactMap { r in value(r).map { "\(f(x(Double(r.n)), 1)),\(f(y($0), 1))" } }
      let dash = k == 2 ? " stroke-dasharray=\"5,4\"" : ""
      s +=
        "<polyline fill=\"none\" stroke=\"\(color)\" stroke-width=\"2\"\(dash) points=\"\(points.joined(separator: " "))\"/>\n"
      let ly = top + 20 + Double(k) * 20
      s += "<line x1=\"\(w - right + 10)\" y1=\"\(ly)\" x2=\"\(w - right + 30)\" y2=\"\(ly)\" stroke=\"\(color)\" "
      s += "stroke-width=\"2\"\(dash)/>\n<text x=\"\(w - right + 36)\" y=\"\(ly + 4)\">\(name)</text>\n"
    }
    return s + "</svg>\n"
  }
}

func f(_ v: Double, _ digits: Int) -> String { String(format: "%.\(digits)f", v) }

func pad(_ s: String, _ width: Int) -> String { String(repeating: " ", count: max(0, width - s.count)) + s }

extension BenchmarkReport {
  /// Several runs of blasnet-bench (one backend or more, in alternation)
  /// side by side: per network and backend, the median over that backend's
  /// runs of the iteration, its products alone, their ratio, GFLOP/s and the
  /// share of the measured FMA peak, with NumPy's iteration from the same runs.
  public static func sideBySide(_ reports: [BenchmarkReport]) -> String {
    func median(_ values: [Double]) -> Double? {
      let v = values.sorted()
      return v.isEmpty ? nil : v.count % 2 == 1 ? v[v.count / 2] : (v[v.count / 2 - 1] + v[v.count / 2]) / 2
    }
    var backends: [String] = []
    for r in reports where !backends.contains(r.backendLabel) { backends.append(r.backendLabel) }
    let runs = backends.map { b in reports.filter { $0.backendLabel == b }.count }
    var s = "CPU: \(reports.first?.cpu ?? "unknown"), \(reports.first?.threads ?? 0) threads; "
    s += zip(backends, runs).map { "\($0) × \($1) runs" }.joined(separator: ", ") + "\n"
    let peaks = reports.compactMap(\.peak)
    let peak = median(peaks.map(\.gflops))
    if let peak, let p = peaks.first {
      s += "FMA peak, measured: \(f(peak, 1)) GFLOP/s (\(p.instructions), median of \(peaks.count) runs)\n"
    }
    s += "\nnetwork  backend                 iteration ms   products ms   iteration/products   GFLOP/s   of peak"
    s += "   NumPy ms   NumPy/BLASNet\n"
    let names = reports.first?.networks.map(\.name) ?? []
    for name in names {
      let numpy = median(reports.compactMap { $0.networks.first { $0.name == name }?.numpyMilliseconds })
      for b in backends {
        let results = reports.filter { $0.backendLabel == b }.compactMap { $0.networks.first { $0.name == name } }
        guard let first = results.first, let iteration = median(results.map(\.blasMilliseconds)),
          let products = median(results.map(\.gemmMilliseconds))
        else { continue }
        let gflops = first.flopsPerIteration / (iteration * 1e6)
        s +=
          name.padding(toLength: 9, withPad: " ", startingAt: 0) + b.padding(toLength: 22, withPad: " ", startingAt: 0)
        s += pad(f(iteration, 3), 14) + pad(f(products, 3), 14) + pad(f(iteration / products, 2) + "×", 21)
        s += pad(f(gflops, 1), 10) + pad(peak.map { f(100 * gflops / $0, 1) + " %" } ?? "—", 10)
        s += pad(numpy.map { f($0, 3) } ?? "—", 11) + pad(numpy.map { "×" + f($0 / iteration, 2) } ?? "—", 16) + "\n"
      }
    }
    return s
  }

  /// `OpenBLAS SkylakeX`, `BLIS haswell`: the backend and its kernels.
  var backendLabel: String { "\(blas.split(separator: " ").first ?? "?") \(kernel)" }
}
