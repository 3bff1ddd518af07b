import FuzzDriver
import Tabular

/// Fuzzes the safetensors importer (scripts/fuzz.sh); a plain build replays
/// the files it is given.
@main struct FuzzSafetensors {
  static func main() throws {
    try fuzzMain(entry: FuzzEntryPoints.safetensors, callback: fuzzOneInput)
  }
}

/// One input, as libFuzzer calls it (by this name from its own `main`, or
/// through ``fuzzMain(entry:callback:)``).
@_cdecl("LLVMFuzzerTestOneInput")
func fuzzOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
  FuzzEntryPoints.safetensors(fuzzInput(data, size))
  return 0
}
