import BLASNetCLI
import Foundation
import LinearAlgebra

// A reader of standard output that has gone (`blasnet predict … | head -1`)
// makes a write fail with EPIPE, which ends the command quietly
// (StandardOutput), instead of killing it with SIGPIPE.
signal(SIGPIPE, SIG_IGN)
// OpenBLAS picks its kernels when it loads: on a CPU it does not know, the
// generic ones. Restart once with OPENBLAS_CORETYPE set before doing anything.
BLAS.restartWithMatchingKernelsIfNeeded { StandardError.write("blasnet: note: \($0)\n") }
// Ctrl-C or a SIGTERM during a cache build leaves no partial file behind.
PartialFiles.removeOnTermination()
BLASNetCommand.run()
