import FuzzDriver
import Tabular

/// Fuzzes the .npz importer (scripts/fuzz.sh); a plain build replays
/// the files it is given.
@main struct FuzzNPZ {
  static func main() throws {
    try fuzzMain(entry: FuzzEntryPoints.npz, callback: fuzzOneInput)
  }
}

/// One input, as libFuzzer calls it (by this name from its own `main`, or
/// through ``fuzzMain(entry:callback:)``).
@_cdecl("LLVMFuzzerTestOneInput")
func fuzzOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
  FuzzEntryPoints.npz(fuzzInput(data, size))
  return 0
}
