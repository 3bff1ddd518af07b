import CMPI
import NeuralNetwork

#if canImport(Glibc)
  import Glibc
#endif

/// The processes started by `mpirun` (MPI_COMM_WORLD) as a ``ProcessGroup``:
/// this process's rank, their number, and the collective operations of
/// data-parallel training, each one MPI call.
///
///     let world = MPICommunicator.start()
///     defer { world.finish() }
///     var trainer = try Trainer(network: network, options: options)
///     let history = try trainer.fit(examples, validation: nil, group: world)
///
/// MPI's default error handler is kept: an MPI call that fails ends every
/// process with MPI's message, so none waits forever for another.
public final class MPICommunicator: ProcessGroup, @unchecked Sendable {
  public let rank: Int
  public let size: Int
  let world: MPI_Comm

  /// Initialises MPI (once per process, before any other MPI call).
  public static func start() -> MPICommunicator {
    MPI_Init(nil, nil)
    return MPICommunicator()
  }

  private init() {
    world = blasnet_mpi_comm_world()
    var r: Int32 = 0
    var s: Int32 = 0
    MPI_Comm_rank(world, &r)
    MPI_Comm_size(world, &s)
    rank = Int(r)
    size = Int(s)
  }

  /// Whether this process was started by mpirun (or another MPI launcher)
  /// rather than on its own: Open MPI sets OMPI_COMM_WORLD_SIZE for its processes.
  public static var launchedByMPI: Bool { getenv("OMPI_COMM_WORLD_SIZE") != nil || getenv("PMI_SIZE") != nil }

  /// Ends MPI; no MPI call may follow.
  public func finish() {
    MPI_Finalize()
  }

  /// Waits until every process has called it.
  public func barrier() {
    MPI_Barrier(world)
  }

  /// Ends every process of the group with `code`.
  public func abort(code: Int32) -> Never {
    MPI_Abort(world, code)
    exit(code)
  }

  public func allreduceSum(_ buffer: UnsafeMutableBufferPointer<Float>) {
    allreduce(UnsafeMutableRawPointer(buffer.baseAddress), buffer.count, blasnet_mpi_float(), 4)
  }

  public func allreduceSum(_ buffer: UnsafeMutableBufferPointer<Double>) {
    allreduce(UnsafeMutableRawPointer(buffer.baseAddress), buffer.count, blasnet_mpi_double(), 8)
  }

  /// One MPI_Allreduce in place (more only past 2³¹ − 1 elements, MPI's count limit).
  func allreduce(_ base: UnsafeMutableRawPointer?, _ count: Int, _ type: MPI_Datatype, _ size: Int) {
    guard let base, count > 0 else { return }
    var done = 0
    while done < count {
      let n = Swift.min(count - done, Int(Int32.max))
      MPI_Allreduce(blasnet_mpi_in_place(), base + done * size, Int32(n), type, blasnet_mpi_sum(), world)
      done += n
    }
  }

  public func broadcast(_ buffer: UnsafeMutableRawBufferPointer, from root: Int) {
    guard let base = buffer.baseAddress, buffer.count > 0 else { return }
    var done = 0
    while done < buffer.count {
      let n = Swift.min(buffer.count - done, Int(Int32.max))
      MPI_Bcast(base + done, Int32(n), blasnet_mpi_byte(), Int32(root), world)
      done += n
    }
  }
}
