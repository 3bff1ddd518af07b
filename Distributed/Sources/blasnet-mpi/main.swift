import BLASNetCLI
import Foundation
import LinearAlgebra
import MPI

// `mpirun -np N blasnet-mpi train --data big.csv …`: blasnet train's options,
// data-parallel over the N processes.
//
// OpenBLAS picks its kernels when it loads: restart once with matching ones
// before MPI starts. Each process uses one BLAS thread unless --threads,
// OPENBLAS_NUM_THREADS or OMP_NUM_THREADS says otherwise: N processes on one
// machine share its cores.
BLAS.restartWithMatchingKernelsIfNeeded { message in
  if ProcessInfo.processInfo.environment["OMPI_COMM_WORLD_RANK"] ?? "0" == "0" {
    StandardError.write("blasnet-mpi: note: \(message)\n")
  }
}
let environment = ProcessInfo.processInfo.environment
if environment["OPENBLAS_NUM_THREADS"] == nil && environment["OMP_NUM_THREADS"] == nil {
  BLAS.threadCount = 1
}
if !MPICommunicator.launchedByMPI && environment["BLASNET_MPI_SINGLETON"] == nil {
  let found = (environment["PATH"] ?? "").split(separator: ":").contains {
    FileManager.default.isExecutableFile(atPath: "\($0)/mpirun")
  }
  let hint =
    found
    ? "start it with mpirun: mpirun -np 2 blasnet-mpi train --data FILE.csv (as root add --allow-run-as-root); to run it as one process anyway set BLASNET_MPI_SINGLETON=1"
    : "mpirun was not found: install Open MPI (bash scripts/ensure-deps.sh --mpi, or apt-get install openmpi-bin libopenmpi-dev), then mpirun -np 2 blasnet-mpi train --data FILE.csv"
  StandardError.write("blasnet-mpi: error: not started by mpirun; \(hint)\n")
  exit(1)
}
let world = MPICommunicator.start()
// A reader of standard output that has gone makes a write fail with EPIPE,
// which ends the run quietly (as blasnet does), instead of SIGPIPE killing
// one process of the group.
signal(SIGPIPE, SIG_IGN)
// A signal during a cache build leaves no partial file behind.
PartialFiles.removeOnTermination()
let status = BLASNetCommand.runTraining(
  arguments: Array(CommandLine.arguments.dropFirst()), group: world, programName: "blasnet-mpi")
world.finish()
exit(status)
