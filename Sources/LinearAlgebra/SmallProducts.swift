import Foundation
import Synchronization

#if XSMM
  import CXSMM
#endif

#if canImport(Glibc)
  import Glibc
#endif

/// Which kernels run a matrix product.
public enum ProductKernel: String, Sendable, CaseIterable, Codable {
  /// libxsmm for a small product where this machine's measurement found it
  /// faster than BLAS, BLAS otherwise: the default (see ``SmallProducts``).
  case automatic
  /// BLAS, always.
  case blas
  /// libxsmm whenever it makes a kernel for the shape, unmeasured; BLAS when it
  /// makes none or the package was built without it.
  case libxsmm
}

/// The shape of one product as the dispatch between BLAS and libxsmm sees it:
/// `C (m×n) = op(A)·op(B)` (`+ C` when `accumulate`), in `Float` or `Double`.
public struct ProductShape: Hashable, Sendable, Codable, CustomStringConvertible {
  public var double: Bool
  public var transposeA: Bool
  public var transposeB: Bool
  public var m: Int
  public var n: Int
  public var k: Int
  public var accumulate: Bool

  public init(
    double: Bool = false, transposeA: Bool = false, transposeB: Bool = false, m: Int, n: Int, k: Int,
    accumulate: Bool = false
  ) {
    self.double = double
    self.transposeA = transposeA
    self.transposeB = transposeB
    self.m = m
    self.n = n
    self.k = k
    self.accumulate = accumulate
  }

  // One word hashed, not eight: the dispatch hashes a shape for every product.
  public func hash(into hasher: inout Hasher) {
    let flags = (double ? 1 : 0) | (transposeA ? 2 : 0) | (transposeB ? 4 : 0) | (accumulate ? 8 : 0)
    hasher.combine(m &* 0x9E37_79B9 ^ n &* 0x85EB_CA6B ^ k &* 0xC2B2_AE35 ^ flags &<< 60)
  }

  /// `f32 NT 16×30×455`.
  public var description: String {
    let ops = (transposeA ? "T" : "N") + (transposeB ? "T" : "N")
    return "\(double ? "f64" : "f32") \(ops) \(m)×\(n)×\(k)\(accumulate ? " +C" : "")"
  }
}

/// libxsmm for small products, and the measured choice between it and BLAS.
///
/// A product is small when its output and inner dimension are a few dozen to
/// a few hundred: the layers of most tabular networks. There BLAS spends much
/// of its time on call overhead, packing and threads, and libxsmm's kernels,
/// generated for the exact shape at run time, can do better — or worse: on
/// the machine measured (AVX-512, OpenBLAS 0.3.21 `Cooperlake`), libxsmm 1.17
/// was about twice as fast as OpenBLAS on a 16×455×8 product with A
/// transposed and 1.5 to 1.7 times slower on an 8×16×455 one with B
/// transposed. So
/// nothing is guessed: the first time a shape is seen (in ``ProductKernel/automatic``,
/// the default), both kernels are timed on the product's own operands, a few
/// hundred microseconds, and the faster runs from then on; BLAS unless libxsmm
/// wins by at least 3 %. The choices are kept in a file per machine (CPU
/// model, BLAS build and thread count, libxsmm version and target), so that a new
/// process does not measure again: ``calibrationFile``.
///
/// Products go through libxsmm in blocks of columns small enough to stay in
/// the first-level cache, so that ``gemm(alpha:_:_:transposeA:transposeB:beta:into:epilogue:kernel:)``
/// can finish each block (bias, activation) while it is there. libxsmm 1.17
/// has no kernels with A transposed: such a product multiplies a transposed
/// copy of A (on the stack; A is small) instead. A product libxsmm makes no
/// kernel for, one above its size limit, an `alpha` other than 1 with
/// `beta` 1, and any `beta` other than 0 and 1 run in BLAS.
///
/// Environment:
/// - `BLASNET_SMALL_PRODUCTS`: `auto` (the default), `blas` or `off` (every
///   product in BLAS) or `libxsmm` (libxsmm wherever it makes a kernel, unmeasured).
/// - `BLASNET_SMALL_PRODUCTS_CACHE`: the calibration file's path instead of
///   `$XDG_CACHE_HOME/blasnet/small-products-<hash of the machine>.json` (or
///   `~/.cache/blasnet/…`), or `off` to measure in every process and keep nothing.
///
/// A calibration file that cannot be read, does not parse, holds an
/// impossible entry or was made on another machine or build is ignored with a
/// warning on standard error, then replaced.
///
/// Built without the XSMM trait (or without libxsmm), every product runs in BLAS.
public enum SmallProducts {
  /// Whether libxsmm is linked (the XSMM trait).
  public static var isLinked: Bool {
    #if XSMM
      true
    #else
      false
    #endif
  }

  /// libxsmm's version and the instruction set its kernels are generated for
  /// (`1.17, target skx`), or `not linked`.
  public static var libraryDescription: String {
    #if XSMM
      "\(LIBXSMM_CONFIG_VERSION), target \(String(cString: libxsmm_get_target_arch()))"
    #else
      "not linked"
    #endif
  }

  /// How products choose their kernel when they are given ``ProductKernel/automatic``:
  /// from `BLASNET_SMALL_PRODUCTS` (`auto`, `blas`, `libxsmm`), read once.
  public static let mode: ProductKernel = {
    guard let value = ProcessInfo.processInfo.environment[modeVariable] else { return .automatic }
    switch value.lowercased() {
    case "", "auto", "automatic": return .automatic
    case "blas", "off": return .blas
    case "libxsmm", "xsmm": return .libxsmm
    default:
      warn("\(modeVariable)=\(value) is not auto, blas or libxsmm; using auto")
      return .automatic
    }
  }()

  public static let modeVariable = "BLASNET_SMALL_PRODUCTS"
  public static let cacheVariable = "BLASNET_SMALL_PRODUCTS_CACHE"

  /// Where the measured choices are kept: `BLASNET_SMALL_PRODUCTS_CACHE`, else
  /// ``fileName(for:)`` of this ``machine`` in `$XDG_CACHE_HOME/blasnet/`, else
  /// in `$HOME/.cache/blasnet/`; nil when the variable is `off` or there is no
  /// home. One file per machine and build, so that builds on other backends
  /// (or debug builds) on the same machine keep their own.
  public static let calibrationFile: URL? = {
    let environment = ProcessInfo.processInfo.environment
    if let path = environment[cacheVariable] {
      return path.lowercased() == "off" || path.isEmpty ? nil : URL(fileURLWithPath: path)
    }
    let name = fileName(for: machine)
    if let cache = environment["XDG_CACHE_HOME"], cache.hasPrefix("/") {
      return URL(fileURLWithPath: cache).appendingPathComponent("blasnet/\(name)")
    }
    guard let home = environment["HOME"], home.hasPrefix("/") else { return nil }
    return URL(fileURLWithPath: home).appendingPathComponent(".cache/blasnet/\(name)")
  }()

  /// `small-products-` and 16 hexadecimal digits of the machine string's
  /// 64-bit FNV-1a hash, `.json`.
  public static func fileName(for machine: String) -> String {
    var hash: UInt64 = 0xcbf2_9ce4_8422_2325
    for byte in machine.utf8 {
      hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01b3
    }
    let hex = String(hash, radix: 16)
    return "small-products-\(String(repeating: "0", count: 16 - hex.count))\(hex).json"
  }

  /// One measured shape: the time of one product in each kernel and the one chosen.
  public struct Measurement: Codable, Sendable, Equatable {
    public var shape: ProductShape
    public var blasNanoseconds: Double
    public var libxsmmNanoseconds: Double
    public var chosen: ProductKernel

    /// The rule: libxsmm only when it is at least 3 % faster.
    static func choose(blas: Double, libxsmm: Double) -> ProductKernel {
      libxsmm < 0.97 * blas ? .libxsmm : .blas
    }

    var isPlausible: Bool {
      let s = shape
      return s.m > 0 && s.n > 0 && s.k > 0 && blasNanoseconds.isFinite && blasNanoseconds > 0
        && libxsmmNanoseconds.isFinite && libxsmmNanoseconds > 0
        && chosen == Self.choose(blas: blasNanoseconds, libxsmm: libxsmmNanoseconds)
    }
  }

  /// What a calibration file holds: the machine it was made on and its measurements.
  public struct Calibration: Codable, Sendable, Equatable {
    public static let currentFormat = 2
    public var format: Int
    /// `AMD EPYC 7763 64-Core Processor | OpenBLAS 0.3.21 … | libxsmm 1.17, target hsw`.
    public var machine: String
    public var measurements: [Measurement]
    /// How large skinny products are threaded: see `prefersSplittingColumns(_:_:transposeA:transposeB:)`.
    public var splits: [SplitMeasurement]
  }

  /// One measured thread layout of a large product with few output rows: one
  /// BLAS call on BLAS's own threads (`whole`), or one single-threaded call
  /// per core on a share of the columns (`split`,
  /// ``gemmSplittingColumns(alpha:_:_:transposeA:transposeB:beta:into:)``).
  public struct SplitMeasurement: Codable, Sendable, Equatable {
    public var shape: ProductShape
    public var wholeNanoseconds: Double
    public var splitNanoseconds: Double
    public var split: Bool

    /// The rule: split only when it is at least 3 % faster.
    static func choose(whole: Double, split: Double) -> Bool { split < 0.97 * whole }

    var isPlausible: Bool {
      shape.m > 0 && shape.n > 0 && shape.k > 0 && wholeNanoseconds.isFinite && wholeNanoseconds > 0
        && splitNanoseconds.isFinite && splitNanoseconds > 0
        && split == Self.choose(whole: wholeNanoseconds, split: splitNanoseconds)
    }
  }

  /// The machine and build that measurements are valid for: CPU model, BLAS
  /// build, kernel and thread count (as configured when first asked), libxsmm
  /// version and target, and whether BLASNet itself is a debug build (whose
  /// Swift loops around libxsmm's kernels are slower).
  public static let machine: String =
    "\(BLAS.CPUFeatures.current.modelName) | \(BLAS.configuration), kernel \(BLAS.kernel), \(BLAS.threadCount) threads | libxsmm \(libraryDescription)\(debugBuild ? " | debug build" : "")"

  static var debugBuild: Bool {
    #if DEBUG
      true
    #else
      false
    #endif
  }

  /// Every shape measured or loaded in this process, in the order first seen.
  public static var measurements: [Measurement] {
    _ = loaded
    return state.withLock { s in s.order.compactMap { s.measured[$0] } }
  }

  /// Every thread layout measured or loaded in this process, in the order first seen.
  public static var splitMeasurements: [SplitMeasurement] {
    _ = loaded
    return state.withLock { s in s.splitOrder.compactMap { s.splits[$0] } }
  }

  /// The kernel a product of `shape` runs in under ``mode``, measuring it now
  /// (on scratch operands) if it has not been measured: for a report of which
  /// path each layer takes.
  public static func chosenKernel(for shape: ProductShape) -> ProductKernel {
    if mode == .blas || !isLinked { return .blas }
    return shape.double ? chosenKernel(shape, Double.self) : chosenKernel(shape, Float.self)
  }

  static func chosenKernel<S: BLASScalar>(_ shape: ProductShape, _: S.Type) -> ProductKernel {
    guard let plan = _SmallPlan.plan(for: shape) else { return .blas }
    if mode == .libxsmm { return .libxsmm }
    return lookup(shape) ?? measureOnScratch(shape, plan: plan, S.self)
  }

  /// Whether libxsmm makes kernels for a product of `shape` (false when it is
  /// not linked): a product with ``ProductKernel/libxsmm`` then runs in them.
  public static func hasKernel(for shape: ProductShape) -> Bool {
    isLinked && _SmallPlan.plan(for: shape) != nil
  }

  /// Reads, checks and returns the calibration file (for `blasnet-bench --calibrate`):
  /// nil and a reason when it is missing or not trusted.
  public static func readCalibration(_ url: URL) -> (Calibration?, String?) {
    guard let data = FileManager.default.contents(atPath: url.path) else { return (nil, "no file") }
    struct Format: Decodable { var format: Int }
    if let version = try? JSONDecoder().decode(Format.self, from: data), version.format != Calibration.currentFormat {
      return (nil, "format \(version.format), this build reads \(Calibration.currentFormat)")
    }
    guard let calibration = try? JSONDecoder().decode(Calibration.self, from: data) else {
      return (nil, "not a calibration file (it does not parse)")
    }
    if calibration.machine != machine {
      return (nil, "made for \(calibration.machine), this is \(machine)")
    }
    if let bad = calibration.measurements.first(where: { !$0.isPlausible }) {
      return (
        nil,
        "an impossible entry (\(bad.shape): BLAS \(bad.blasNanoseconds) ns, libxsmm \(bad.libxsmmNanoseconds) ns, chosen \(bad.chosen.rawValue))"
      )
    }
    if let bad = calibration.splits.first(where: { !$0.isPlausible }) {
      return (
        nil,
        "an impossible entry (\(bad.shape): whole \(bad.wholeNanoseconds) ns, split \(bad.splitNanoseconds) ns, split \(bad.split))"
      )
    }
    return (calibration, nil)
  }

  // MARK: - State

  struct State {
    var measured: [ProductShape: Measurement] = [:]
    var order: [ProductShape] = []
    var splits: [ProductShape: SplitMeasurement] = [:]
    var splitOrder: [ProductShape] = []
  }

  static let state = Mutex(State())
  static let warned = Mutex(Set<String>())

  /// Prints a warning on standard error, once per text.
  static func warn(_ text: String) {
    let first = warned.withLock { $0.insert(text).inserted }
    if first { FileHandle.standardError.write(Data("blasnet: \(text)\n".utf8)) }
  }

  /// The calibration file's measurements, read once.
  static let loaded: Bool = {
    guard let url = calibrationFile, FileManager.default.fileExists(atPath: url.path) else { return true }
    let (calibration, problem) = readCalibration(url)
    if let calibration {
      state.withLock { s in
        for m in calibration.measurements where s.measured[m.shape] == nil {
          s.measured[m.shape] = m
          s.order.append(m.shape)
        }
        for m in calibration.splits where s.splits[m.shape] == nil {
          s.splits[m.shape] = m
          s.splitOrder.append(m.shape)
        }
      }
    } else if let problem {
      warn("ignoring the small-product calibration \(url.path): \(problem); measuring again")
    }
    return true
  }()

  static func lookup(_ shape: ProductShape) -> ProductKernel? {
    _ = loaded
    return state.withLock { $0.measured[shape]?.chosen }
  }

  static func record(_ m: Measurement) {
    let isNew = state.withLock { s in
      if s.measured[m.shape] != nil { return false }
      s.measured[m.shape] = m
      s.order.append(m.shape)
      return true
    }
    if isNew { save() }
  }

  /// Writes every measurement of this process (with those of the file, when
  /// it is trusted) to the calibration file, atomically; a failure is a warning.
  static func save() {
    guard let url = calibrationFile else { return }
    // One save at a time in a process; other processes write other temporary files.
    saving.withLock { _ in write(to: url) }
  }

  static let saving = Mutex(())

  static func write(to url: URL) {
    var all = measurements
    var splits = splitMeasurements
    if case (let onDisk?, _) = readCalibration(url) {
      let known = Set(all.map(\.shape))
      all += onDisk.measurements.filter { !known.contains($0.shape) }
      let knownSplits = Set(splits.map(\.shape))
      splits += onDisk.splits.filter { !knownSplits.contains($0.shape) }
    }
    let calibration = Calibration(
      format: Calibration.currentFormat, machine: machine, measurements: all, splits: splits)
    do {
      let encoder = JSONEncoder()
      encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
      let data = try encoder.encode(calibration)
      try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
      let temporary = url.deletingLastPathComponent().appendingPathComponent(
        ".\(url.lastPathComponent).\(getpid()).tmp")
      try data.write(to: temporary)
      if rename(temporary.path, url.path) != 0 {
        let reason = String(cString: strerror(errno))
        unlink(temporary.path)
        throw CocoaError(.fileWriteUnknown, userInfo: [NSLocalizedDescriptionKey: reason])
      }
    } catch {
      warn("could not save the small-product calibration to \(url.path): \(error.localizedDescription)")
    }
  }

  /// Times a product of `shape` in both kernels on random scratch operands.
  static func measureOnScratch<S: BLASScalar>(_ shape: ProductShape, plan: _SmallPlan, _: S.Type) -> ProductKernel {
    let (m, n, k) = (shape.m, shape.n, shape.k)
    let a = (0..<(m * k)).map { S(($0 &* 7) % 13) / 13 - 0.5 }
    let b = (0..<(k * n)).map { S(($0 &* 5) % 11) / 11 - 0.5 }
    return a.withUnsafeBufferPointer { ap in
      b.withUnsafeBufferPointer { bp in
        _measure(
          shape, plan: plan, alpha: 1, a: ap.baseAddress!, lda: Int32(shape.transposeA ? k : m),
          b: bp.baseAddress!, ldb: Int32(shape.transposeB ? n : k), beta: shape.accumulate ? 1 : 0)
      }
    }
  }
}

/// The kernels for one product shape in libxsmm: one for a block of `width`
/// columns of C and one for the last, narrower block. `transposeCopy`: A is
/// transposed into a scratch copy first (libxsmm 1.17 has no transposed-A
/// kernels).
// The kernels are code that libxsmm keeps for the life of the process and
// never changes: sharing them between threads is safe.
@usableFromInline
struct _SmallPlan: @unchecked Sendable {
  @usableFromInline let block: UnsafeRawPointer
  @usableFromInline let tail: UnsafeRawPointer?
  @usableFromInline let width: Int
  @usableFromInline let transposeCopy: Bool

  /// libxsmm's limit on m·n·k for one kernel (LIBXSMM_MAX_MNK in 1.17's
  /// configuration), and the largest A copied for a transpose (64 KB of Float).
  static var maximumWork: Int { 262_144 }
  static var maximumCopy: Int { 16_384 }

  /// Columns per block: C's block is at most 16 KB, half a first-level data cache.
  static func width(rows m: Int, columns n: Int, scalarBytes: Int) -> Int {
    Swift.min(n, Swift.max(8, 16_384 / (scalarBytes * m)))
  }

  /// Whether a product this size could go to libxsmm at all (cheap, no lock):
  /// the rest runs in BLAS without looking anything up.
  @inlinable
  static func mayFit<S: BLASScalar>(_: S.Type, m: Int, n: Int, k: Int, transposeA: Bool) -> Bool {
    let w = Swift.min(n, Swift.max(8, 16_384 / (MemoryLayout<S>.stride * m)))
    return m &* w &* k <= 262_144 && (!transposeA || m &* k <= 16_384)
  }

  /// libxsmm's kernels for every shape a product has had in this process
  /// (nil: libxsmm makes none).
  static let cache = Mutex([ProductShape: _SmallPlan?]())

  /// The kernels for `shape`, from the cache or made now (and kept, also when
  /// libxsmm makes none).
  static func plan(for shape: ProductShape) -> _SmallPlan? {
    if let known = cache.withLock({ $0[shape] }) { return known }
    let plan = make(shape)
    cache.withLock { $0[shape] = plan }
    return plan
  }

  /// libxsmm's kernels for `shape`, or nil when it makes none.
  static func make(_ shape: ProductShape) -> _SmallPlan? {
    let (m, n, k) = (shape.m, shape.n, shape.k)
    let w = width(rows: m, columns: n, scalarBytes: shape.double ? 8 : 4)
    var plan: _SmallPlan? = nil
    if m &* k &* w <= maximumWork && (!shape.transposeA || m &* k <= maximumCopy) {
      // Leading dimensions as BLASNet's operands have them: A is m×k (k×m
      // transposed, but then copied to m×k), B is k×n (n×k transposed).
      func kernel(_ columns: Int) -> UnsafeRawPointer? {
        let (m32, n32, k32) = (Int32(m), Int32(columns), Int32(k))
        let ldb = Int32(shape.transposeB ? n : k)
        return shape.double
          ? Double._smallProductKernel(
            m: m32, n: n32, k: k32, lda: m32, ldb: ldb, ldc: m32, transposeA: false, transposeB: shape.transposeB,
            accumulate: shape.accumulate)
          : Float._smallProductKernel(
            m: m32, n: n32, k: k32, lda: m32, ldb: ldb, ldc: m32, transposeA: false, transposeB: shape.transposeB,
            accumulate: shape.accumulate)
      }
      if let block = kernel(w) {
        let rest = n % w
        let tail = rest == 0 ? nil : kernel(rest)
        if rest == 0 || tail != nil {
          plan = _SmallPlan(block: block, tail: tail, width: w, transposeCopy: shape.transposeA)
        }
      }
    }
    return plan
  }

  /// `C = alpha·op(A)·op(B) (+ C)` block by block, each block handed to
  /// `finish(first column, columns)` right after it is computed.
  @inlinable
  func run<S: BLASScalar>(
    m: Int, n: Int, k: Int, alpha: S, a: UnsafePointer<S>, b: UnsafePointer<S>, ldb: Int, transposeB: Bool,
    c: UnsafeMutablePointer<S>, finish: (Int, Int) -> Void
  ) {
    if transposeCopy {
      // A is k×m as stored; its transpose, m×k, on the stack.
      withUnsafeTemporaryAllocation(of: S.self, capacity: m &* k) { t in
        let tp = t.baseAddress!
        for j in 0..<k {
          for i in 0..<m { tp[j &* m &+ i] = a[i &* k &+ j] }
        }
        runBlocks(m: m, n: n, alpha: alpha, a: UnsafePointer(tp), b: b, ldb: ldb, transposeB: transposeB, c: c, finish)
      }
    } else {
      runBlocks(m: m, n: n, alpha: alpha, a: a, b: b, ldb: ldb, transposeB: transposeB, c: c, finish)
    }
  }

  @inlinable
  func runBlocks<S: BLASScalar>(
    m: Int, n: Int, alpha: S, a: UnsafePointer<S>, b: UnsafePointer<S>, ldb: Int, transposeB: Bool,
    c: UnsafeMutablePointer<S>, _ finish: (Int, Int) -> Void
  ) {
    var first = 0
    while first < n {
      let count = Swift.min(width, n &- first)
      let kernel = count == width ? block : tail!
      // Column `first` of op(B): a column of B, or a row of B when transposed.
      let bStart = transposeB ? b + first : b + first &* ldb
      let cStart = c + first &* m
      S._runSmallProductKernel(kernel, a: a, b: bStart, c: cStart)
      if alpha != 1 {
        for i in 0..<(m &* count) { cStart[i] *= alpha }
      }
      finish(first, count)
      first &+= count
    }
  }
}

extension SmallProducts {
  /// Times both kernels on the product's own operands (C is scratch) and
  /// records the choice: rounds of BLAS and libxsmm in turn, the fastest
  /// round of each counting, so that a busy moment does not decide.
  static func _measure<S: BLASScalar>(
    _ shape: ProductShape, plan: _SmallPlan, alpha: S, a: UnsafePointer<S>, lda: Int32, b: UnsafePointer<S>,
    ldb: Int32, beta: S
  ) -> ProductKernel {
    let (m, n, k) = (shape.m, shape.n, shape.k)
    let c = UnsafeMutablePointer<S>.allocate(capacity: m * n)
    c.initialize(repeating: 0, count: m * n)
    defer { c.deallocate() }
    let opA = Transpose(shape.transposeA)
    let opB = Transpose(shape.transposeB)
    func blas() {
      S.gemm(
        opA, opB, m: Int32(m), n: Int32(n), k: Int32(k), alpha: alpha, a: a, lda: lda, b: b, ldb: ldb, beta: beta,
        c: c, ldc: Int32(m))
    }
    func small() {
      plan.run(
        m: m, n: n, k: k, alpha: alpha, a: a, b: b, ldb: Int(ldb), transposeB: shape.transposeB, c: c,
        finish: { _, _ in })
    }
    let (bestBLAS, bestSmall) = fastestAlternated(blas, small, rounds: 9)
    let blasNs = nanoseconds(bestBLAS)
    let smallNs = nanoseconds(bestSmall)
    record(
      Measurement(
        shape: shape, blasNanoseconds: blasNs, libxsmmNanoseconds: smallNs,
        chosen: Measurement.choose(blas: blasNs, libxsmm: smallNs)))
    return lookup(shape) ?? .blas
  }

  /// The fastest of `rounds` alternated rounds of `first` and `second`, in
  /// seconds per call, after one call of each; a round is about 20 µs (at
  /// least one call), so that a busy moment does not decide.
  static func fastestAlternated(_ first: () -> Void, _ second: () -> Void, rounds: Int) -> (Double, Double) {
    func seconds(_ body: () -> Void, _ reps: Int) -> Double {
      var start = timespec()
      var end = timespec()
      clock_gettime(CLOCK_MONOTONIC, &start)
      for _ in 0..<reps { body() }
      clock_gettime(CLOCK_MONOTONIC, &end)
      return (Double(end.tv_sec - start.tv_sec) + 1e-9 * Double(end.tv_nsec - start.tv_nsec)) / Double(reps)
    }
    first()
    second()
    let once = Swift.max(seconds(first, 1), 1e-8)
    let reps = Swift.min(1000, Swift.max(1, Int(20e-6 / once)))
    var best = (Double.infinity, Double.infinity)
    for _ in 0..<rounds {
      best.0 = Swift.min(best.0, seconds(first, reps))
      best.1 = Swift.min(best.1, seconds(second, reps))
    }
    return best
  }

  /// Seconds as whole nanoseconds, at least 1 (a file entry's times must be positive).
  static func nanoseconds(_ seconds: Double) -> Double { Swift.max(1, (seconds * 1e9).rounded()) }
}

/// The kernel for a product under `kernel` (``ProductKernel/automatic`` follows
/// ``SmallProducts/mode``): libxsmm's plan, or nil for BLAS. Measures the
/// shape on first sight in automatic mode.
@usableFromInline
@_specialize(where S == Float)
@_specialize(where S == Double)
func _smallProductPlan<S: BLASScalar>(
  _ kernel: ProductKernel, opA: Transpose, opB: Transpose, m: Int, n: Int, k: Int, alpha: S, beta: S,
  a: UnsafePointer<S>, lda: Int32, b: UnsafePointer<S>, ldb: Int32
) -> _SmallPlan? {
  #if XSMM
    let mode = kernel == .automatic ? SmallProducts.mode : kernel
    if mode == .blas || !(beta == 0 || (beta == 1 && alpha == 1)) { return nil }
    let shape = ProductShape(
      double: S.self == Double.self, transposeA: opA == .transposed, transposeB: opB == .transposed, m: m, n: n, k: k,
      accumulate: beta == 1)
    let key = mode == .automatic ? _DecidedShapes.key(shape) : nil
    if let key, let decided = _DecidedShapes.find(key) { return decided }
    guard let plan = _SmallPlan.plan(for: shape) else {
      if let key { _DecidedShapes.insert(key, nil) }
      return nil
    }
    if mode == .libxsmm { return plan }
    let chosen =
      SmallProducts.lookup(shape)
      ?? SmallProducts._measure(shape, plan: plan, alpha: alpha, a: a, lda: lda, b: b, ldb: ldb, beta: beta)
    if let key { _DecidedShapes.insert(key, chosen == .libxsmm ? plan : nil) }
    return chosen == .libxsmm ? plan : nil
  #else
    return nil
  #endif
}

/// The shapes whose kernel is decided, readable without a lock: the path
/// every product after a shape's first takes. An open-addressed table of 1024
/// slots, each a key (m, n, k below 2²⁰ and the four flags in one word) and a
/// value (BLAS, or which kept plan), written once and never changed: a writer
/// (under a lock) stores the value and then the key, a reader loads the key
/// and then the value, so a key it sees always has its value. A shape that
/// does not fit the key or finds no free slot takes the locked path.
enum _DecidedShapes {
  static let slots = 1024
  static let probes = 8
  nonisolated(unsafe) static let keys: UnsafeMutablePointer<Atomic<UInt64>> = table()
  nonisolated(unsafe) static let values: UnsafeMutablePointer<Atomic<UInt64>> = table()
  /// The plans that values point at, in the order kept (never moved).
  nonisolated(unsafe) static let plans = UnsafeMutablePointer<_SmallPlan>.allocate(capacity: slots)
  static let writer = Mutex(0)

  static func table() -> UnsafeMutablePointer<Atomic<UInt64>> {
    let p = UnsafeMutablePointer<Atomic<UInt64>>.allocate(capacity: slots)
    for i in 0..<slots { (p + i).initialize(to: Atomic(0)) }
    return p
  }

  /// The shape in one word, or nil when a dimension is 2²⁰ or more.
  @inline(__always)
  static func key(_ s: ProductShape) -> UInt64? {
    let limit = 1 << 20
    if s.m >= limit || s.n >= limit || s.k >= limit { return nil }
    let flags = (s.double ? 1 : 0) | (s.transposeA ? 2 : 0) | (s.transposeB ? 4 : 0) | (s.accumulate ? 8 : 0)
    return UInt64(s.m) | UInt64(s.n) << 20 | UInt64(s.k) << 40 | UInt64(flags) << 60
  }

  @inline(__always)
  static func slot(_ key: UInt64, _ probe: Int) -> Int {
    (Int(truncatingIfNeeded: (key &* 0x9E37_79B9_7F4A_7C15) >> 54) &+ probe) & (slots - 1)
  }

  /// nil: not decided yet; `.some(nil)`: BLAS; `.some(plan)`: libxsmm.
  @inline(__always)
  static func find(_ key: UInt64) -> _SmallPlan?? {
    for probe in 0..<probes {
      let i = slot(key, probe)
      let found = keys[i].load(ordering: .acquiring)
      if found == key {
        let value = values[i].load(ordering: .acquiring)
        return value == 1 ? .some(nil) : .some(plans[Int(value &- 2)])
      }
      if found == 0 { return nil }
    }
    return nil
  }

  /// Keeps a decision (`nil`: BLAS); does nothing when the shape is already
  /// there or its probes are full.
  static func insert(_ key: UInt64, _ plan: _SmallPlan?) {
    writer.withLock { kept in
      for probe in 0..<probes {
        let i = slot(key, probe)
        let found = keys[i].load(ordering: .relaxed)
        if found == key { return }
        if found != 0 { continue }
        var value: UInt64 = 1
        if let plan {
          if kept >= slots { return }
          (plans + kept).initialize(to: plan)
          value = UInt64(kept) + 2
          kept += 1
        }
        values[i].store(value, ordering: .releasing)
        keys[i].store(key, ordering: .releasing)
        return
      }
    }
  }
}

extension SmallProducts {
  /// The kept layout for `shape`, or the one measured now by `measure`
  /// (returning the two times in seconds per call), recorded and saved.
  static func splitDecision(_ shape: ProductShape, measure: () -> (whole: Double, split: Double)) -> Bool {
    _ = loaded
    if let known = state.withLock({ $0.splits[shape]?.split }) { return known }
    let (whole, split) = measure()
    let wholeNs = nanoseconds(whole)
    let splitNs = nanoseconds(split)
    let m = SplitMeasurement(
      shape: shape, wholeNanoseconds: wholeNs, splitNanoseconds: splitNs,
      split: SplitMeasurement.choose(whole: wholeNs, split: splitNs))
    let (kept, isNew) = state.withLock { s -> (Bool, Bool) in
      if let known = s.splits[shape] { return (known.split, false) }
      s.splits[shape] = m
      s.splitOrder.append(shape)
      return (m.split, true)
    }
    if isNew { save() }
    return kept
  }
}
