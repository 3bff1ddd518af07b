import FuzzDriver
import Tabular

/// Fuzzes the CSV reader and the data preparation of `blasnet train`
/// (scripts/fuzz.sh); a plain build replays the files it is given.
@main struct FuzzCSV {
  static func main() throws {
    try fuzzMain(entry: FuzzEntryPoints.trainingTable, callback: fuzzOneInput)
  }
}

/// One input, as libFuzzer calls it (by this name from its own `main`, or
/// through ``fuzzMain(entry:callback:)``).
@_cdecl("LLVMFuzzerTestOneInput")
func fuzzOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
  FuzzEntryPoints.trainingTable(fuzzInput(data, size))
  return 0
}
