import FuzzDriver
import Tabular

/// Fuzzes the `.npy` reader (scripts/fuzz.sh); a plain build replays the
/// files it is given.
@main struct FuzzNPY {
  static func main() throws {
    try fuzzMain(entry: FuzzEntryPoints.npyFile, callback: fuzzOneInput)
  }
}

/// One input, as libFuzzer calls it (by this name from its own `main`, or
/// through ``fuzzMain(entry:callback:)``).
@_cdecl("LLVMFuzzerTestOneInput")
func fuzzOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
  FuzzEntryPoints.npyFile(fuzzInput(data, size))
  return 0
}
