import FuzzDriver
import TabularONNX

/// Fuzzes the ONNX importer (scripts/fuzz.sh); a plain build replays
/// the files it is given.
@main struct FuzzONNX {
  static func main() throws {
    try fuzzMain(entry: ONNXFuzzEntryPoint.onnx, callback: fuzzOneInput)
  }
}

/// One input, as libFuzzer calls it (by this name from its own `main`, or
/// through ``fuzzMain(entry:callback:)``).
@_cdecl("LLVMFuzzerTestOneInput")
func fuzzOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
  ONNXFuzzEntryPoint.onnx(fuzzInput(data, size))
  return 0
}
