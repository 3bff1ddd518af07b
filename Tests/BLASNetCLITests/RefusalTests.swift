import Foundation
import NeuralNetwork
import Tabular
import Testing

#if canImport(Glibc)
  import Glibc
#endif

/// The one error line of a failed run, after checking that it failed cleanly.
func errorLine(_ r: CLI.Result, sourceLocation: SourceLocation = #_sourceLocation) -> String {
  #expect(!r.crashed, "crashed: \(r.stderr)", sourceLocation: sourceLocation)
  #expect(r.status == 1, "status \(r.status): \(r.stderr)", sourceLocation: sourceLocation)
  let lines = r.stderr.split(separator: "\n")
  #expect(lines.count == 1, "expected one line: \(r.stderr)", sourceLocation: sourceLocation)
  return lines.first.map(String.init) ?? ""
}

/// Issue 9: non-finite and far-out inputs at prediction time.
@Suite(.serialized) struct CLIPredictionInputTests {
  /// wdbc's header and three rows, with `edit` applied to the cells of each data row.
  func rows(_ edit: (Int, inout [Substring]) -> Void) throws -> String {
    let text = try String(contentsOf: fixtures.appendingPathComponent("wdbc.csv"), encoding: .utf8)
    var lines = text.split(separator: "\n").prefix(4).map { $0.split(separator: ",", omittingEmptySubsequences: false) }
    for k in 1..<lines.count { edit(k, &lines[k]) }
    return lines.map { $0.joined(separator: ",") }.joined(separator: "\n") + "\n"
  }

  @Test(arguments: ["relu", "leaky-relu", "linear"])
  func aValueThatOverflowsOnceStandardisedIsAnErrorNotANaNRow(activation: String) throws {
    try withTemporaryFolder { folder in
      let wdbc = fixtures.appendingPathComponent("wdbc.csv").path
      let trained = try CLI.run(
        [
          "train", "--data", wdbc, "--quiet", "--epochs", "3", "--activation", activation, "--save", "m.json",
          "--scaling", "standard",
        ],
        in: folder)
      #expect(trained.status == 0, "\(trained.stderr)")
      // mean_smoothness (column 5) has a standard deviation of about 0.014: 1e38 / 0.014 is +∞ in Float.
      // (Quantile scaling, the default, bounds it at the training maximum: see the next test.)
      _ = try write(try rows { k, cells in if k == 2 { cells[4] = "1e38" } }, "bad.csv", in: folder)
      let r = try CLI.run(["predict", "--model", "m.json", "--data", "bad.csv"], in: folder)
      let line = errorLine(r)
      #expect(line.hasPrefix("blasnet: error: bad.csv:3: column 5 (mean_smoothness): 1e+38 is inf once standardised"))
      #expect(line.contains("standard deviation 0.01"), "\(line)")
      // The row before it is predicted (output is written as it goes); the bad one is never a NaN row.
      let printed = r.stdout.split(separator: "\n")
      #expect(printed.count == 2 && printed[0] == "probability,class", "\(r.stdout)")
      #expect(!r.stdout.lowercased().contains("nan") && !r.stdout.contains("inf"), "\(r.stdout)")
      // evaluate reads the same way.
      let e = try CLI.run(["evaluate", "--model", "m.json", "--data", "bad.csv"], in: folder)
      #expect(errorLine(e).contains("bad.csv:3: column 5 (mean_smoothness)"))
    }
  }

  @Test func inputsFarOutsideTheTrainingRangeGetOneWarningLine() throws {
    try withTemporaryFolder { folder in
      let wdbc = fixtures.appendingPathComponent("wdbc.csv").path
      #expect(
        try CLI.run(["train", "--data", wdbc, "--quiet", "--epochs", "3", "--save", "m.json"], in: folder).status == 0)
      // mean_radius: mean ≈ 14, standard deviation ≈ 3.5; 300 is about 80 deviations out, 400 more still.
      _ = try write(try rows { k, cells in if k >= 2 { cells[0] = k == 2 ? "300" : "400" } }, "far.csv", in: folder)
      let r = try CLI.run(["predict", "--model", "m.json", "--data", "far.csv"], in: folder)
      #expect(r.status == 0, "\(r.stderr)")
      let warnings = r.stderr.split(separator: "\n")
      #expect(warnings.count == 1, "\(r.stderr)")
      #expect(
        r.stderr.hasPrefix("blasnet: warning: far.csv:3: column 1 (mean_radius): 300.0 lies "), "\(r.stderr)")
      // (300 − 28.11) / (28.11 − 6.981) training ranges beyond the largest training value.
      #expect(
        r.stderr.contains("12.9 times the training range (6.981 to 28.11) outside it (and 1 more values)"),
        "\(r.stderr)")
      // The predictions are still written, all of them probabilities.
      let probabilities = r.stdout.split(separator: "\n").dropFirst().compactMap { Double($0.split(separator: ",")[0]) }
      #expect(probabilities.count == 3)
      #expect(probabilities.allSatisfy { $0 >= 0 && $0 <= 1 })
      // The same file without the far values: no warning.
      _ = try write(try rows { _, _ in }, "near.csv", in: folder)
      let near = try CLI.run(["predict", "--model", "m.json", "--data", "near.csv"], in: folder)
      #expect(near.status == 0 && near.stderr.isEmpty, "\(near.stderr)")
    }
  }
}

/// Issue 9: output paths are checked before any work, and written safely.
@Suite(.serialized) struct CLIOutputPathTests {
  let quick = ["train", "--quiet", "--epochs", "2"]

  @Test func devicesFoldersAndMissingFoldersAreRefusedBeforeTraining() throws {
    try withTemporaryFolder { folder in
      try FileManager.default.createDirectory(
        at: folder.appendingPathComponent("sub"), withIntermediateDirectories: false)
      // Devices of the test's own, never the system's: a regression must not
      // replace /dev/null. A FIFO always; as root also a character device
      // with /dev/null's numbers (major 1, minor 3: Linux encodes them as 1 << 8 | 3), made in the test folder.
      #expect(mkfifo(folder.path + "/fifo", 0o600) == 0)
      let root = getuid() == 0
      if root { #expect(mknod(folder.path + "/null", S_IFCHR | 0o666, dev_t(1 << 8 | 3)) == 0) }
      var cases: [([String], String)] = [
        (
          ["--plot", "fifo"],
          "--plot fifo: is a FIFO (named pipe), not a file; give a file path (or - for standard output)"
        ),
        (["--save", "sub"], "--save sub: is a folder, not a file; give a file name in it"),
        (["--plot", "nowhere/c.svg"], "--plot nowhere/c.svg: the folder \(folder.path)/nowhere does not exist"),
        (["--save", ""], "--save: the path is empty"),
      ]
      if root {
        cases.append(
          (["--save", "null"], "--save null: is a device, not a file; give a file path (or - for standard output)"))
      }
      for (options, message) in cases {
        let r = try CLI.run(quick + options, in: folder)
        #expect(errorLine(r) == "blasnet: error: " + message)
        #expect(!r.stdout.contains("Trained"), "refused before training: \(r.stdout)")
      }
      var info = stat()
      #expect(lstat(folder.path + "/fifo", &info) == 0 && (info.st_mode & S_IFMT) == S_IFIFO, "still a FIFO")
      if root {
        #expect(lstat(folder.path + "/null", &info) == 0 && (info.st_mode & S_IFMT) == S_IFCHR, "still a device")
      }
      let left = try FileManager.default.contentsOfDirectory(atPath: folder.path).sorted()
      #expect(left == (root ? ["fifo", "null", "sub"] : ["fifo", "sub"]), "nothing was written")
    }
  }

  @Test func outputsMustBeDistinctFromEachOtherAndFromTheInput() throws {
    try withTemporaryFolder { folder in
      let data = try write("a,b,label\n1,2,0\n3,4,1\n5,6,0\n7,8,1\n9,1,0\n2,3,1\n", "d.csv", in: folder)
      _ = data
      #expect(
        errorLine(try CLI.run(quick + ["--save", "x.json", "--plot", "./x.json"], in: folder))
          == "blasnet: error: --plot ./x.json: the same file as --save; give each output a path of its own")
      #expect(
        errorLine(try CLI.run(quick + ["--data", "d.csv", "--save", "d.csv"], in: folder))
          == "blasnet: error: --save d.csv: the same file as --data; give each output a path of its own")
      // Through a symbolic link and through a hard link.
      try FileManager.default.createSymbolicLink(atPath: folder.path + "/link.csv", withDestinationPath: "d.csv")
      #expect(link(folder.path + "/d.csv", folder.path + "/hard.csv") == 0)
      #expect(
        errorLine(try CLI.run(quick + ["--data", "d.csv", "--plot", "link.csv"], in: folder)).contains(
          "--plot link.csv: the same file as --data"))
      #expect(
        errorLine(try CLI.run(quick + ["--data", "d.csv", "--save", "hard.csv"], in: folder)).contains(
          "--save hard.csv: the same file as --data"))
      #expect(
        errorLine(try CLI.run(quick + ["--save", "-", "--plot", "-"], in: folder))
          == "blasnet: error: --save and --plot both write to standard output (-); only one of them can")
      #expect(try String(contentsOfFile: data, encoding: .utf8).hasPrefix("a,b,label"), "the input is untouched")
      // predict: --output against --data and --model.
      #expect(try CLI.run(quick + ["--data", "d.csv", "--save", "m.json"], in: folder).status == 0)
      #expect(
        errorLine(try CLI.run(["predict", "--model", "m.json", "--data", "d.csv", "--output", "m.json"], in: folder))
          == "blasnet: error: --output m.json: the same file as --model; give each output a path of its own")
    }
  }

  @Test func aDashWritesToStandardOutputAndTheReportMovesToStandardError() throws {
    try withTemporaryFolder { folder in
      let r = try CLI.run(quick + ["--save", "-", "--plot", "c.svg"], in: folder)
      #expect(r.status == 0, "\(r.stderr)")
      let model = try TabularModel.decode(Data(r.stdout.utf8))
      // 30 numeric inputs, each its value and 4 bins: 150.
      #expect(model.network.sizes == [150, 100, 1])
      #expect(r.stderr.contains("Wrote the model to standard output"))
      #expect(r.stderr.contains("accuracy"))
      #expect(try FileManager.default.contentsOfDirectory(atPath: folder.path) == ["c.svg"])
      let svg = try CLI.run(quick + ["--save", "m.json", "--plot", "-"], in: folder)
      #expect(svg.stdout.hasPrefix("<svg") && svg.stdout.hasSuffix("</svg>\n"))
    }
  }

  @Test func aSymbolicLinkIsFollowedAndTheModeIsKept() throws {
    try withTemporaryFolder { folder in
      let models = folder.appendingPathComponent("models")
      try FileManager.default.createDirectory(at: models, withIntermediateDirectories: false)
      #expect(try CLI.run(quick + ["--save", "models/real.json"], in: folder).status == 0)
      #expect(chmod(models.path + "/real.json", 0o640) == 0)
      try FileManager.default.createSymbolicLink(
        atPath: folder.path + "/current.json", withDestinationPath: "models/real.json")
      let before = try Data(contentsOf: models.appendingPathComponent("real.json"))
      let r = try CLI.run(quick + ["--save", "current.json", "--seed", "7"], in: folder)
      #expect(r.status == 0, "\(r.stderr)")
      let destination = try FileManager.default.destinationOfSymbolicLink(atPath: folder.path + "/current.json")
      #expect(destination == "models/real.json", "the link is still a link")
      let after = try Data(contentsOf: models.appendingPathComponent("real.json"))
      #expect(after != before, "the target holds the new model")
      _ = try TabularModel.decode(after)
      var info = stat()
      #expect(stat(models.path + "/real.json", &info) == 0)
      #expect(info.st_mode & 0o777 == 0o640)
      #expect(try FileManager.default.contentsOfDirectory(atPath: models.path) == ["real.json"])
    }
  }

  @Test func staleTemporaryFilesOfDeadProcessesAreRemovedOnTheNextSave() throws {
    try withTemporaryFolder { folder in
      // A process that has ended: its ID is free.
      let ended = Process()
      ended.executableURL = URL(fileURLWithPath: "/bin/true")
      try ended.run()
      ended.waitUntilExit()
      let dead = ".blasnet-model.json.tmp-\(ended.processIdentifier)-12345"
      // Process 1 runs, and started before its file was written: kept.
      let live = ".blasnet-model.json.tmp-1-777"
      let unrelated = ".blasnet-model.json.tmp-notapid"
      // Written five seconds ago, before the blasnet run below started.
      var past = [timeval(tv_sec: time(nil) - 5, tv_usec: 0), timeval(tv_sec: time(nil) - 5, tv_usec: 0)]
      for name in [dead, live, unrelated] {
        _ = try write("partial", name, in: folder)
        #expect(utimes(folder.path + "/" + name, &past) == 0)
      }
      #expect(try CLI.run(quick, in: folder).status == 0)
      let left = try FileManager.default.contentsOfDirectory(atPath: folder.path).sorted()
      #expect(left == [live, unrelated, "blasnet-cost.svg", "blasnet-model.json"].sorted())
    }
  }
}

/// Issue 9: limits end in an error, never in an abort.
@Suite(.serialized) struct CLILimitTests {
  @Test func aNetworkTooLargeForMemoryIsRefusedUpFront() throws {
    try withTemporaryFolder { folder in
      let r = try CLI.run(["train", "--quiet", "--layers", "100000,100000"], in: folder)
      let line = errorLine(r)
      #expect(line.contains("the network 150 → 100000 → 100000 → 1 needs about 160.3 GB"), "\(line)")
      #expect(line.contains("parameters 40.1 GB"), "\(line)")
      #expect(line.contains("of memory is available; use smaller --layers"), "\(line)")
    }
  }

  @Test func anAbsurdL2IsRefusedBeforeTraining() throws {
    try withTemporaryFolder { folder in
      let line = errorLine(try CLI.run(["train", "--quiet", "--l2", "1e30"], in: folder))
      #expect(line.contains("--l2 1e+30 makes the L2 penalty at the start"), "\(line)")
      #expect(line.contains("more than a million times"), "\(line)")
      #expect(!FileManager.default.fileExists(atPath: folder.appendingPathComponent("blasnet-model.json").path))
    }
  }

  @Test func aHugeFieldIsQuotedShortAndAUTF16FileIsNamed() throws {
    try withTemporaryFolder { folder in
      let field = String(repeating: "z", count: 200_000)
      _ = try write("a,b,label\n1,\(field),0\n2,3,1\n", "wide.csv", in: folder)
      let line = errorLine(try CLI.run(["train", "--data", "wide.csv"], in: folder))
      #expect(line.count < 250, "\(line.count) characters")
      #expect(line.contains("wide.csv:2: column 2 (b): expected a number, found \"zzz"), "\(line)")
      #expect(line.contains("…\" (200000 bytes) (the column's other values are numbers)"), "\(line)")
      var utf16: [UInt8] = [0xFF, 0xFE]
      for unit in "a,b,label\n17.99,1,0\n".utf16 { utf16 += [UInt8(unit & 0xFF), UInt8(unit >> 8)] }
      try Data(utf16).write(to: folder.appendingPathComponent("u16.csv"))
      #expect(
        errorLine(try CLI.run(["train", "--data", "u16.csv"], in: folder)).contains(
          "u16.csv: the file is UTF-16 text"))
    }
  }
}

/// Issue 9: a save killed half way leaves the old model or the new one, never
/// a mixture, and its leftovers are cleaned up.
@Suite(.serialized) struct CLIInterruptedSaveTests {
  /// About 2 million parameters: a model file of some 25 MB, whose save takes long enough to be hit.
  func big(_ folder: URL) -> [String] {
    [
      "train", "--quiet", "--layers", "2000,1000", "--epochs", "1", "--batch-size", "0", "--save",
      folder.path + "/m.json", "--plot", folder.path + "/c.svg",
    ]
  }

  /// A child `blasnet`, started with posix_spawn so that the test itself
  /// waits for it and reads how it ended (Foundation's Process reaps it on
  /// its own thread).
  struct Child {
    var pid: pid_t

    /// Waits for the child; the signal that ended it, or nil after a normal exit with `status`.
    func wait() -> (signal: Int32?, status: Int32) {
      var status: Int32 = 0
      while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
      let signal = status & 0x7F
      return signal != 0 ? (signal, 0) : (nil, (status >> 8) & 0xFF)
    }

    /// Not yet exited (a zombie has exited: it waits for ``wait()``).
    var isRunning: Bool {
      var info = siginfo_t()
      return waitid(P_PID, id_t(pid), &info, WEXITED | WNOHANG | WNOWAIT) == 0 && info._sifields._kill.si_pid == 0
    }
  }

  func start(_ arguments: [String], in folder: URL) throws -> Child {
    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    defer { posix_spawn_file_actions_destroy(&actions) }
    posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
    posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0)
    // The test runner's threads may block or ignore SIGTERM; the child starts
    // as a program started from a shell does: nothing blocked, default actions.
    var attributes = posix_spawnattr_t()
    posix_spawnattr_init(&attributes)
    defer { posix_spawnattr_destroy(&attributes) }
    var none = sigset_t()
    sigemptyset(&none)
    var defaults = sigset_t()
    sigemptyset(&defaults)
    sigaddset(&defaults, SIGTERM)
    sigaddset(&defaults, SIGINT)
    posix_spawnattr_setsigmask(&attributes, &none)
    posix_spawnattr_setsigdefault(&attributes, &defaults)
    posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
    let argv = ([CLI.executable.path] + arguments).map { strdup($0) } + [nil]
    defer { for p in argv { free(p) } }
    var pid: pid_t = 0
    let result = posix_spawn(&pid, CLI.executable.path, &actions, &attributes, argv, environ)
    #expect(result == 0, "posix_spawn: \(result)")
    return Child(pid: pid)
  }

  /// BLASNet's temporary files in `folder` (of saves to `name` only, when given).
  func temporaries(_ folder: URL, of name: String = "") throws -> [String] {
    try FileManager.default.contentsOfDirectory(atPath: folder.path).filter { $0.contains(name + ".tmp-") }
  }

  @Test func sigkillAtAnyMomentLeavesAValidModel() throws {
    try withTemporaryFolder { folder in
      let clock = ContinuousClock()
      let started = clock.now
      #expect(try start(big(folder), in: folder).wait() == (nil, 0))
      let full = clock.now - started
      for k in 1...6 {
        let p = try start(big(folder) + ["--seed", "\(k)"], in: folder)
        // Spread the kills over the run, most of them late, where the save is.
        let fraction = [0.5, 0.7, 0.8, 0.9, 0.95, 0.99][k - 1]
        Thread.sleep(forTimeInterval: full / .seconds(1) * fraction)
        kill(p.pid, SIGKILL)
        _ = p.wait()
        // Whatever the moment, m.json is a whole model: the old one or the new one.
        let now = try Data(contentsOf: folder.appendingPathComponent("m.json"))
        let model = try TabularModel.decode(now)
        #expect(model.network.sizes == [150, 2000, 1000, 1])
      }
      // The next save removes whatever temporary files the kills left.
      #expect(try start(big(folder), in: folder).wait() == (nil, 0))
      #expect(try temporaries(folder) == [])
    }
  }

  @Test func sigtermDuringTheSaveRemovesItsTemporaryFile() throws {
    try withTemporaryFolder { folder in
      #expect(try start(big(folder), in: folder).wait() == (nil, 0))
      let old = try Data(contentsOf: folder.appendingPathComponent("m.json"))
      var caught = false
      for attempt in 1...5 where !caught {
        let p = try start(big(folder) + ["--seed", "\(attempt + 10)"], in: folder)
        // Watch for the temporary file, then interrupt the save it belongs to.
        while p.isRunning {
          if try !temporaries(folder, of: "m.json").isEmpty {
            kill(p.pid, SIGTERM)
            break
          }
          usleep(200)
        }
        let ended = p.wait()
        guard ended.signal == SIGTERM else { continue }
        caught = true
        #expect(try temporaries(folder, of: "m.json") == [], "the temporary file is gone")
        #expect(try Data(contentsOf: folder.appendingPathComponent("m.json")) == old, "the old model is untouched")
      }
      #expect(caught, "a SIGTERM never landed during a save in 5 attempts")
    }
  }
}
