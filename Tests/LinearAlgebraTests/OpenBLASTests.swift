import LinearAlgebra
import Testing

@Suite(.serialized) struct OpenBLASTests {
  @Test func threadCountCanBeReadAndSet() {
    let original = OpenBLAS.threadCount
    #expect(original >= 1)
    OpenBLAS.threadCount = 1
    #expect(OpenBLAS.threadCount == 1)
    OpenBLAS.threadCount = original
    #expect(OpenBLAS.threadCount == original)
    #expect(OpenBLAS.configuration.contains("OpenBLAS"))
    #expect(!OpenBLAS.coreName.isEmpty)
  }
}
