import FuzzDriver
import Tabular

/// Fuzzes the prediction service's request decoder, JSON body → records →
/// inputs (scripts/fuzz.sh); a plain build replays the files it is given.
@main struct FuzzRequest {
  static func main() throws {
    try fuzzMain(entry: FuzzEntryPoints.requestBody, callback: fuzzOneInput)
  }
}

/// One input, as libFuzzer calls it (by this name from its own `main`, or
/// through ``fuzzMain(entry:callback:)``).
@_cdecl("LLVMFuzzerTestOneInput")
func fuzzOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
  FuzzEntryPoints.requestBody(fuzzInput(data, size))
  return 0
}
