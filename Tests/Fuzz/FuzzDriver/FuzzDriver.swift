import Tabular

#if canImport(Glibc)
  import Glibc
#endif

#if FUZZING
  /// libFuzzer's own driver (in the runtime that -sanitize=fuzzer links):
  /// parses libFuzzer's options from argv and calls `callback` per input.
  @_silgen_name("LLVMFuzzerRunDriver")
  func LLVMFuzzerRunDriver(
    _ argc: UnsafeMutablePointer<Int32>,
    _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
    _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> Int32
  ) -> Int32
#endif

/// The `main` of a fuzz target. Built by scripts/fuzz.sh (-sanitize=fuzzer,address
/// -D FUZZING), it hands `callback` to libFuzzer with the command line's
/// options (`-max_total_time=60 corpus/`); in a plain build it replays the
/// files named on the command line through `entry`, to reproduce a crash
/// input the fuzzer saved.
public func fuzzMain(
  entry: ([UInt8]) -> Void, callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> Int32
) throws -> Never {
  #if FUZZING
    var argc = CommandLine.argc
    var argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = CommandLine.unsafeArgv
    exit(LLVMFuzzerRunDriver(&argc, &argv, callback))
  #else
    try FuzzEntryPoints.replay(CommandLine.arguments.dropFirst(), through: entry)
    exit(0)
  #endif
}

/// The bytes of one fuzzer input.
public func fuzzInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> [UInt8] {
  data.map { Array(UnsafeBufferPointer(start: $0, count: size)) } ?? []
}
