import BLASNetCLI
import Foundation
import LinearAlgebra

// OpenBLAS picks its kernels when it loads: on a CPU it does not know, the
// generic ones. Restart once with OPENBLAS_CORETYPE set before doing anything.
BLAS.restartWithMatchingKernelsIfNeeded { FileHandle.standardError.write(Data("blasnet: note: \($0)\n".utf8)) }
// Ctrl-C or a SIGTERM during a cache build leaves no partial file behind.
PartialFiles.removeOnTermination()
BLASNetCommand.run()
