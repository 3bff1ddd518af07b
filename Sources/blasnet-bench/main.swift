// blasnet-bench: naive Swift loops against the BLAS path, the networks against their own
// products, and against the NumPy reference when python3 with numpy is there (and the
// PyTorch one, Benchmarks/Python/torch_reference.py, with --torch-python PY).
//
//   swift run -c release blasnet-bench [--quick] [--no-naive] [--no-numpy] [--no-split]
//                                      [--torch-python PY] [--json FILE] [--svg FILE] [--threads N]
//   swift run -c release blasnet-bench --linalg [--quick] [--no-numpy] [--json FILE]
//   swift run -c release blasnet-bench --inference [--quick] [--rounds N] [--python PY] [--no-numpy] [--json FILE]
//     (batch and one-row prediction against NumPy, ONNX Runtime and PyTorch, interleaved rounds)
//   swift run -c release blasnet-bench --defaults [--seeds N] [--python PY]
//     (blasnet train's defaults against scikit-learn's MLPClassifier on iris, wine and wdbc, same splits)
//   blasnet-bench --numbers N   (number parsing against strtod on N random strings and adversarial ones)
//   blasnet-bench --records FILE.csv [--count N]   (TabularModel.predict on N records of the file's rows)
//   blasnet-bench --tables DIR [--manifest FILE.json] [--seeds N] [--only NAME,NAME] [--python PY] [--no-numpy] [--json FILE]
//                 [--missing error|mean|median|zero] [--layers 100,50] [--epochs N] [--batch-size N]
//                 [--l2 X] [--patience EPOCHS] [--learning-rate X] [--validation-fraction X]
//                 [--max-categories N] [--scaling quantile|standard] [--bins N] [--bin-edges quantiles|target] [--ensemble K] [--refit on|off|start]
//     (TabularModel.fit's defaults, or these overrides, against scikit-learn's MLP, gradient boosting and
//     a linear model on the tables of Benchmarks/tables.json found in DIR, the same stratified 80/20 splits;
//     Benchmarks/Python/sklearn_table_peers.py; writes tables-benchmark.json unless --json)
//   blasnet-bench --side-by-side RUN.json... (scripts/compare-backends.sh: both backends in one table)
//     (SVD, symmetric eigen, Cholesky and solve at n = 256 and 1024 against numpy.linalg)
import BLASNetBenchmarkKit
import Foundation
import LinearAlgebra
import NeuralNetwork
import Tabular

BLAS.restartWithMatchingKernelsIfNeeded { FileHandle.standardError.write(Data("blasnet-bench: note: \($0)\n".utf8)) }

/// The command line, consumed option by option.
struct Arguments {
  var rest = Array(CommandLine.arguments.dropFirst())

  mutating func flag(_ name: String) -> Bool {
    guard let i = rest.firstIndex(of: name) else { return false }
    rest.remove(at: i)
    return true
  }

  mutating func value(_ name: String) -> String? {
    guard let i = rest.firstIndex(of: name), i + 1 < rest.count else { return nil }
    let v = rest[i + 1]
    rest.removeSubrange(i...(i + 1))
    return v
  }
}

var arguments = Arguments()
// --side-by-side FILE.json...: the reports of earlier runs (scripts/compare-backends.sh), one table.
if arguments.flag("--side-by-side") {
  let decoder = JSONDecoder()
  var reports: [BenchmarkReport] = []
  for path in arguments.rest {
    guard let data = FileManager.default.contents(atPath: path),
      let report = try? decoder.decode(BenchmarkReport.self, from: data)
    else {
      FileHandle.standardError.write(Data("blasnet-bench: \(path) is not a blasnet-bench JSON report\n".utf8))
      exit(1)
    }
    reports.append(report)
  }
  print(BenchmarkReport.sideBySide(reports), terminator: "")
  exit(0)
}
// --numbers N: the CSV readers' number parsing against strtod on N random strings and the
// adversarial ones (the same bits or both refusing), and the time of each on table-like numbers.
if let text = arguments.value("--numbers") {
  guard let count = Int(text), count >= 0 else { fail("--numbers takes a count of random strings") }
  let started = ContinuousClock.now
  let (checked, mismatches) = NumberCheck.run(count: count)
  print("checked \(checked) strings against strtod in \(ContinuousClock.now - started): \(mismatches.count) disagree")
  for m in mismatches { print("  \(m)") }
  let timing = NumberCheck.timing(count: 1_000_000)
  print(
    "table-like numbers (up to 8 digits and a point): \(String(format: "%.1f", timing.ours)) ns each, strtod \(String(format: "%.1f", timing.strtod)) ns (×\(String(format: "%.2f", timing.strtod / timing.ours)))"
  )
  if !timing.sameSums { fail("--numbers: the two parsers' sums of the timed numbers differ") }
  exit(mismatches.isEmpty ? 0 : 1)
}
// --records FILE.csv [--count N]: TabularModel.predict on N records of the file's rows.
if let path = arguments.value("--records") {
  let count = Int(arguments.value("--count") ?? "100000") ?? 100_000
  do {
    let r = try RecordsTiming.run(csv: path, count: count)
    if !r.samePredictions {
      fail("--records: a record predicted alone, or typed, differs from the same record in the batch")
    }
    print(
      "TabularModel.predict, the default model of \(path): \(String(format: "%.2f", r.batched)) µs a record in one call of \(r.count), \(String(format: "%.2f", r.single)) µs one record a call (\(r.singleCount), the same predictions); typed values: \(String(format: "%.2f", r.typed)) µs a record in one call (the same predictions)"
    )
  } catch { fail("\(error)") }
  exit(0)
}
let quick = arguments.flag("--quick")
let linalg = arguments.flag("--linalg")
let inference = arguments.flag("--inference")
let inferenceSweep = arguments.flag("--inference-sweep")
let defaults = arguments.flag("--defaults")
let tablesFolder = arguments.value("--tables")
let seedsArgument = arguments.value("--seeds")
let roundsArgument = arguments.value("--rounds")
let pythonArgument = arguments.value("--python")
// PyTorch's PyPI wheel brings gigabytes of CUDA libraries: its Python is named, never looked for.
let torchPython = arguments.value("--torch-python")
let skipNaive = arguments.flag("--no-naive")
// --tables' options: the FitOptions overrides it compares with the defaults.
func fail(_ message: String) -> Never {
  FileHandle.standardError.write(Data("blasnet-bench: \(message)\n".utf8))
  exit(1)
}
func whole(_ name: String, _ text: String?) -> Int? {
  guard let text else { return nil }
  guard let n = Int(text), n >= 1 else { fail("\(name) needs a whole number ≥ 1, got \(text)") }
  return n
}
let tableSeeds = whole("--seeds", seedsArgument) ?? 5
var tableOptions = TabularModel.FitOptions()
var tableOverrides: [String] = []
if let m = arguments.value("--missing") {
  guard let strategy = MissingValueStrategy(rawValue: m) else { fail("--missing takes error, mean, median or zero") }
  tableOptions.missing = strategy
  tableOverrides.append("--missing \(m)")
}
if let l = arguments.value("--layers") {
  let sizes = l.split(separator: ",").map { Int($0.trimmingCharacters(in: .whitespaces)) }
  guard !sizes.isEmpty, sizes.allSatisfy({ ($0 ?? 0) >= 1 }) else { fail("--layers takes sizes ≥ 1 like 100,50") }
  tableOptions.hiddenLayers = sizes.map { $0! }
  tableOverrides.append("--layers \(l)")
}
if let n = whole("--epochs", arguments.value("--epochs")) {
  tableOptions.epochs = n
  tableOverrides.append("--epochs \(n)")
}
if let n = whole("--batch-size", arguments.value("--batch-size")) {
  tableOptions.batchSize = .examples(n)
  tableOverrides.append("--batch-size \(n)")
}
if let text = arguments.value("--missing-indicators") {
  guard ["on", "off"].contains(text) else { fail("--missing-indicators takes on or off") }
  tableOptions.missingIndicators = text == "on"
  tableOverrides.append("--missing-indicators \(text)")
}
if let text = arguments.value("--refit") {
  guard ["on", "off", "start"].contains(text) else { fail("--refit takes on, off or start (from the initial weights)") }
  tableOptions.refit = text != "off"
  if text == "start" { tableOptions.refitStart = .initial }
  tableOverrides.append("--refit \(text)")
}
if let text = arguments.value("--scaling") {
  guard let scaling = TabularModel.Scaling(rawValue: text) else { fail("--scaling takes quantile or standard") }
  tableOptions.scaling = scaling
  tableOverrides.append("--scaling \(text)")
}
if let text = arguments.value("--ensemble") {
  guard let n = Int(text), n >= 1 else { fail("--ensemble takes a whole number of networks, at least 1") }
  tableOptions.ensembleSize = n
  tableOverrides.append("--ensemble \(n)")
}
if let text = arguments.value("--bins") {
  guard let n = Int(text), n >= 0 else { fail("--bins takes a whole number of bins, 0 for none") }
  tableOptions.piecewiseLinearBins = n
  tableOverrides.append("--bins \(n)")
}
if let text = arguments.value("--bin-edges") {
  guard let edges = TabularModel.BinEdges(rawValue: text) else { fail("--bin-edges takes quantiles or target") }
  tableOptions.binEdges = edges
  tableOverrides.append("--bin-edges \(text)")
}
if let n = whole("--max-categories", arguments.value("--max-categories")) {
  tableOptions.maxCategories = n
  tableOverrides.append("--max-categories \(n)")
}
func positive(_ name: String, _ text: String?) -> Double? {
  guard let text else { return nil }
  guard let x = Double(text), x.isFinite, x >= 0 else { fail("\(name) needs a number ≥ 0, got \(text)") }
  return x
}
if let x = positive("--l2", arguments.value("--l2")) {
  tableOptions.l2 = x
  tableOverrides.append("--l2 \(x)")
}
if let n = whole("--patience", arguments.value("--patience")) {
  tableOptions.earlyStopping = .on(EarlyStopping(patience: n, minDelta: 0.001))
  tableOverrides.append("--patience \(n)")
}
if let x = positive("--learning-rate", arguments.value("--learning-rate")) {
  tableOptions.optimizer = .adam(learningRate: x)
  tableOverrides.append("--learning-rate \(x)")
}
if let x = positive("--keep-probability", arguments.value("--keep-probability")) {
  guard x > 0 && x <= 1 else { fail("--keep-probability takes a number in (0, 1], got \(x)") }
  tableOptions.keepProbability = x
  tableOverrides.append("--keep-probability \(x)")
}
if let text = arguments.value("--calibration") {
  guard let method = TabularModel.CalibrationMethod(rawValue: text) else {
    fail("--calibration takes platt, isotonic or temperature")
  }
  tableOptions.calibration = method
  tableOverrides.append("--calibration \(text)")
}
if let x = positive("--validation-fraction", arguments.value("--validation-fraction")) {
  tableOptions.validationFraction = x
  if x == 0 { tableOptions.earlyStopping = .off }
  tableOverrides.append("--validation-fraction \(x)")
}
let manifestOption = arguments.value("--manifest")
let tablesOnly = arguments.value("--only").map { $0.split(separator: ",").map(String.init) }
let skipNumPy = arguments.flag("--no-numpy")
let noSplit = arguments.flag("--no-split")
let jsonPath = arguments.value("--json") ?? "benchmark.json"
let svgPath = arguments.value("--svg") ?? "benchmark-gemm.svg"
if let t = arguments.value("--threads") {
  guard let n = Int(t), n >= 1 else {
    FileHandle.standardError.write(Data("blasnet-bench: --threads needs a whole number ≥ 1, got \(t)\n".utf8))
    exit(1)
  }
  BLAS.threadCount = n
}
// --profile NAME: only run training steps of one reference network for about 5 s
// (for `perf record`), then stop.
if let name = arguments.value("--profile") {
  guard let net = ReferenceNetwork.all.first(where: { $0.name == name }) else {
    FileHandle.standardError.write(Data("blasnet-bench: --profile takes wdbc, cat or wide\n".utf8))
    exit(1)
  }
  let (x, y) = net.data()
  var trainer = net.trainer(path: .blas)
  let clock = ContinuousClock()
  let end = clock.now + .seconds(5)
  var steps = 0
  while clock.now < end {
    opaqueUse(trainer.step(x: x, y: y))
    steps += 1
  }
  print("\(steps) steps of \(name)")
  exit(0)
}
// --calibrate: the small-product dispatch's measurements for the products of the
// reference networks (full batch, batch 64 and one example), kept in the calibration file.
if arguments.flag("--calibrate") {
  print("libxsmm: \(SmallProducts.libraryDescription); BLAS: \(BLAS.summary)")
  print("machine: \(SmallProducts.machine)")
  print("calibration file: \(SmallProducts.calibrationFile?.path ?? "none (\(SmallProducts.cacheVariable)=off)")")
  print("mode: \(SmallProducts.mode.rawValue) (\(SmallProducts.modeVariable))")
  if let file = SmallProducts.calibrationFile, FileManager.default.fileExists(atPath: file.path),
    case (nil, let problem?) = SmallProducts.readCalibration(file)
  {
    print("the file is not trusted (\(problem)): measuring again")
  }
  let start = ContinuousClock.now
  print("network  batch  product              form  shape               BLAS µs  libxsmm µs  kernel")
  for net in ReferenceNetwork.all {
    for batch in Array(Set([net.examples, 64, 1])).sorted(by: >) {
      var sized = net
      sized.examples = batch
      let shapes = sized.products
      for p in shapes {
        let chosen = SmallProducts.chosenKernel(for: p.productShape)
        let m = SmallProducts.measurements.first { $0.shape == p.productShape }
        var line = net.name.padding(toLength: 9, withPad: " ", startingAt: 0)
        line += String(batch).padding(toLength: 7, withPad: " ", startingAt: 0)
        line += p.label.padding(toLength: 21, withPad: " ", startingAt: 0) + p.form + "    "
        line += "\(p.m)×\(p.n)×\(p.k)".padding(toLength: 18, withPad: " ", startingAt: 0)
        line += (m.map { String(format: "%8.2f", $0.blasNanoseconds / 1000) } ?? "       —")
        line += (m.map { String(format: "%12.2f", $0.libxsmmNanoseconds / 1000) } ?? "           —")
        line += "  " + chosen.rawValue
        print(line)
      }
    }
  }
  print(
    "\nLarge products with few output rows (≤ 64 rows, ≥ 2·10⁶ multiply-adds, full batch): one BLAS call on its threads, or split by columns, one single-threaded call per core"
  )
  print("network  product              form  shape               whole µs    split µs  layout")
  for net in ReferenceNetwork.all {
    for p in net.products where ProductDispatch.splits(rows: p.m, columns: p.n, inner: p.k) {
      let (a, b, _) = p.operands()
      let split = prefersSplittingColumns(a, b, transposeA: p.transposeA, transposeB: p.transposeB)
      let m = SmallProducts.splitMeasurements.first { $0.shape == p.productShape }
      var line = net.name.padding(toLength: 9, withPad: " ", startingAt: 0)
      line += p.label.padding(toLength: 21, withPad: " ", startingAt: 0) + p.form + "    "
      line += "\(p.m)×\(p.n)×\(p.k)".padding(toLength: 18, withPad: " ", startingAt: 0)
      line += (m.map { String(format: "%9.1f", $0.wholeNanoseconds / 1000) } ?? "        —")
      line += (m.map { String(format: "%12.1f", $0.splitNanoseconds / 1000) } ?? "           —")
      line += "  " + (split ? "split" : "whole")
      print(line)
    }
  }
  print(
    "done in \(ContinuousClock.now - start) (— : libxsmm makes no kernel for the shape, or BLAS is forced; one BLAS thread: never split)"
  )
  exit(0)
}
if !arguments.rest.isEmpty {
  FileHandle.standardError.write(
    Data(
      "blasnet-bench: unknown arguments \(arguments.rest); use --quick --no-naive --no-numpy --no-split --linalg --inference --calibrate --defaults --tables DIR --rounds N --seeds N --python PY --torch-python PY --json F --svg F --threads N (--tables: --manifest, --only, --missing, --layers, --epochs, --batch-size, --max-categories, --scaling, --bins, --bin-edges, --ensemble, --refit, --missing-indicators, --l2, --patience, --learning-rate, --keep-probability, --calibration, --validation-fraction)\n"
        .utf8))
  exit(1)
}

func log(_ s: String) { FileHandle.standardError.write(Data("  … \(s)\n".utf8)) }

/// Runs the NumPy reference next to this executable's package, if python3 can import numpy.
func numpyTimings(quick: Bool, mode: String? = nil) -> [String: Double] {
  referenceTimings("numpy_reference.py", python: "python3", quick: quick, mode: mode)
}

/// Runs `Benchmarks/Python/SCRIPT --json` with `python`; its milliseconds per iteration, or none.
func referenceTimings(_ name: String, python: String, quick: Bool, mode: String? = nil) -> [String: Double] {
  let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent().appendingPathComponent("Benchmarks/Python/\(name)")
  guard FileManager.default.fileExists(atPath: script.path) else { return [:] }
  let process = Process()
  process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
  process.arguments = [python, script.path, "--json"] + (quick ? ["--quick"] : []) + (mode.map { [$0] } ?? [])
  let out = Pipe()
  process.standardOutput = out
  process.standardError = FileHandle.nullDevice
  do { try process.run() } catch { return [:] }
  let data = out.fileHandleForReading.readDataToEndOfFile()
  process.waitUntilExit()
  guard process.terminationStatus == 0,
    let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
    let ms = object["milliseconds_per_iteration"] as? [String: Double]
  else { return [:] }
  return ms
}

// --defaults: blasnet train with no training options against scikit-learn's defaults.
if defaults {
  guard let seeds = seedsArgument.map({ Int($0) }) ?? 10, seeds >= 1 else {
    FileHandle.standardError.write(Data("blasnet-bench: --seeds needs a whole number ≥ 1\n".utf8))
    exit(1)
  }
  let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent()
  let script = root.appendingPathComponent("Benchmarks/Python/sklearn_defaults.py").path
  let venv = root.appendingPathComponent(".venv-bench/bin/python").path
  let python = skipNumPy ? nil : pythonArgument ?? (FileManager.default.fileExists(atPath: venv) ? venv : "python3")
  let tables = [
    DefaultsBenchmark.Table(
      name: "iris", path: root.appendingPathComponent("Examples/tables/iris.csv").path, label: "species"),
    DefaultsBenchmark.Table(
      name: "wine", path: root.appendingPathComponent("Examples/tables/wine.csv").path, label: "cultivar"),
    DefaultsBenchmark.Table(
      name: "wdbc", path: root.appendingPathComponent("Sources/BLASNetCLI/Resources/wdbc.csv").path, label: "malignant"),
  ]
  do {
    print(
      try DefaultsBenchmark.run(
        tables: tables, seeds: seeds, options: TabularModel.FitOptions(), python: python, script: script, log: log),
      terminator: "")
  } catch {
    FileHandle.standardError.write(Data("blasnet-bench: \(error)\n".utf8))
    exit(1)
  }
  exit(0)
}

// --tables DIR: the tables of Benchmarks/tables.json (or --manifest FILE's) against scikit-learn's peers, same splits.
if let tablesFolder {
  let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent()
  let manifestPath = manifestOption ?? root.appendingPathComponent("Benchmarks/tables.json").path
  let manifest: TablesBenchmark.Manifest
  do { manifest = try TablesBenchmark.Manifest.read(manifestPath) } catch {
    fail("cannot read \(manifestPath): \(error)")
  }
  var tables = manifest.tables
  if let only = tablesOnly {
    let unknown = only.filter { name in !tables.contains { $0.name == name } }
    if !unknown.isEmpty {
      fail("--only: no table \(unknown.joined(separator: ", ")) (known: \(tables.map(\.name).joined(separator: ", ")))")
    }
    tables = tables.filter { only.contains($0.name) }
  }
  let script = root.appendingPathComponent("Benchmarks/Python/sklearn_table_peers.py").path
  let venv = root.appendingPathComponent(".venv-bench/bin/python").path
  let python = skipNumPy ? nil : pythonArgument ?? (FileManager.default.fileExists(atPath: venv) ? venv : "python3")
  do {
    let report = try TablesBenchmark.run(
      tables: tables, folder: tablesFolder, seeds: tableSeeds, options: tableOptions, overrides: tableOverrides,
      python: python,
      script: script, command: (["blasnet-bench"] + CommandLine.arguments.dropFirst()).joined(separator: " "), log: log)
    print(report.text, terminator: "")
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
    let file = CommandLine.arguments.contains("--json") ? jsonPath : "tables-benchmark.json"
    try AtomicFile.write(try encoder.encode(report), to: file)
    print("Wrote \(file)")
  } catch {
    fail("\(error)")
  }
  exit(0)
}

// --inference-sweep: the Predictor's block size and workers on the CLI's network, 100,000 rows.
if inferenceSweep {
  let network = Network<Float>(sizes: [30, 16, 8, 1], seed: 3)
  let x = Matrix<Float>.randomNormal(30, 100_000, seed: 1)
  var out = Matrix<Float>.zeros(1, 100_000)
  print("block  workers  ms (median)")
  for block in [128, 256, 512, 1024, 2048, 4096, 8192] {
    for workers in [1, 2] {
      let predictor = Predictor(network, blockColumns: block, workers: workers)
      let t = Timing.measure(budget: 0.5, minimumRuns: 30) { predictor.predict(x, into: &out) }
      print(String(format: "%5d  %7d  %.3f", block, workers, t.median * 1e3))
    }
  }
  exit(0)
}

// --inference: batch and one-row prediction against NumPy, ONNX Runtime and PyTorch.
if inference {
  guard let rounds = roundsArgument.map({ Int($0) }) ?? (quick ? 2 : 5), rounds >= 1 else {
    FileHandle.standardError.write(Data("blasnet-bench: --rounds needs a whole number ≥ 1\n".utf8))
    exit(1)
  }
  let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent().appendingPathComponent("Benchmarks/Python/inference_reference.py").path
  // The peers' Python: --python, else the project's .venv-bench (scripts/ensure-deps.sh --inference-peers), else python3.
  let venv = URL(fileURLWithPath: script).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent().appendingPathComponent(".venv-bench/bin/python").path
  let python =
    skipNumPy ? nil : pythonArgument ?? (FileManager.default.fileExists(atPath: venv) ? venv : "python3")
  let cases = quick ? InferenceCase.all.map(\.quick) : InferenceCase.all
  let report = InferenceBenchmark.run(cases: cases, rounds: rounds, python: python, script: script, log: log)
  print(report.text, terminator: "")
  let encoder = JSONEncoder()
  encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
  do {
    try AtomicFile.write(
      try encoder.encode(report), to: CommandLine.arguments.contains("--json") ? jsonPath : "inference.json")
  } catch {
    FileHandle.standardError.write(Data("blasnet-bench: cannot write the results: \(error)\n".utf8))
    exit(1)
  }
  exit(0)
}

if linalg {
  log("LAPACK routines (Double)")
  var results = linalgTimings(quick: quick)
  if !skipNumPy {
    log("NumPy reference (python3 Benchmarks/Python/numpy_reference.py --linalg)")
    let numpy = numpyTimings(quick: quick, mode: "--linalg")
    if numpy.isEmpty { log("NumPy reference not run: python3 with numpy was not found") }
    for i in results.indices { results[i].numpyMilliseconds = numpy["\(results[i].operation).\(results[i].n)"] }
  }
  let header =
    "BLAS: \(BLAS.configuration)\nkernel: \(BLAS.kernel), threads: \(BLAS.threadCount), CPU: \(BLAS.CPUFeatures.current.modelName)"
  print(linalgTable(results, header: header))
  let encoder = JSONEncoder()
  encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
  do {
    try AtomicFile.write(try encoder.encode(results), to: jsonPath)
    print("Wrote \(jsonPath)")
  } catch {
    FileHandle.standardError.write(Data("blasnet-bench: cannot write the results: \(error)\n".utf8))
    exit(1)
  }
  exit(0)
}

log("FMA peak probe")
let peak = PeakProbe.measure(threads: BLAS.threadCount)
var suite = BenchmarkSuite(quick: quick)
suite.splitSkinnyProducts = !noSplit
log("square sgemm sweep")
let gemmResults = suite.gemmSweep(log: log)
log("network products")
let productResults = suite.networkProducts(ReferenceNetwork.all)
var networkResults = ReferenceNetwork.all.map { suite.network($0, naive: !skipNaive, log: log) }
if !skipNumPy {
  log("NumPy reference (python3 Benchmarks/Python/numpy_reference.py)")
  let numpy = numpyTimings(quick: quick)
  if numpy.isEmpty { log("NumPy reference not run: python3 with numpy was not found") }
  for i in networkResults.indices { networkResults[i].numpyMilliseconds = numpy[networkResults[i].name] }
}
if let torchPython {
  log("PyTorch reference (\(torchPython) Benchmarks/Python/torch_reference.py)")
  let torch = referenceTimings("torch_reference.py", python: torchPython, quick: quick)
  if torch.isEmpty { log("PyTorch reference not run: \(torchPython) could not import torch") }
  for i in networkResults.indices { networkResults[i].torchMilliseconds = torch[networkResults[i].name] }
}
let report = BenchmarkReport(
  blas: BLAS.configuration, kernel: BLAS.kernel, threads: BLAS.threadCount, cpu: BLAS.CPUFeatures.current.modelName,
  gemm: gemmResults, products: productResults, networks: networkResults, peak: peak)
print(report.text)
do {
  try AtomicFile.write(report.json, to: jsonPath)
  try AtomicFile.write(Data(report.svg.utf8), to: svgPath)
  print("Wrote \(jsonPath) and \(svgPath)")
} catch {
  FileHandle.standardError.write(Data("blasnet-bench: cannot write the results: \(error)\n".utf8))
  exit(1)
}
