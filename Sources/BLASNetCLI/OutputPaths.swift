import Foundation
import NeuralNetwork
import Tabular

#if canImport(Glibc)
  import Glibc
#endif

/// The files a command will write, checked before any work starts, so that a
/// long training run never ends in "cannot write": each output must be a file
/// path (or `-`, standard output) in a folder that exists and is writable, not
/// a folder, device, FIFO or socket, and no two outputs, nor an output and an
/// input, may name the same file (through a symbolic link or a hard link too).
enum OutputPaths {
  typealias Named = (option: String, path: String)

  static func check(outputs: [Named], inputs: [Named], folders: [Named] = []) throws(CLIError) {
    let toStandardOutput = outputs.filter { $0.path == "-" }.map(\.option)
    if toStandardOutput.count > 1 {
      throw CLIError(
        "\(toStandardOutput.joined(separator: " and ")) \(toStandardOutput.count == 2 ? "both" : "all") write to standard output (-); only one of them can"
      )
    }
    var seen: [(option: String, identity: Identity)] = []
    for input in inputs {
      if let identity = Identity(existing: input.path) { seen.append((input.option, identity)) }
    }
    for output in outputs where output.path != "-" {
      let identity = try checkOne(output)
      if let other = seen.first(where: { $0.identity.sameFile(as: identity) }) {
        throw CLIError(
          "\(output.option) \(output.path): the same file as \(other.option); give each output a path of its own")
      }
      seen.append((output.option, identity))
    }
    // A folder the run writes in (the data cache) must not be an output's path.
    for folder in folders {
      let url = URL(fileURLWithPath: folder.path)
      let parent = url.deletingLastPathComponent().path
      let canonical = realpath(parent, nil).map { p in
        defer { free(p) }
        return String(cString: p)
      }
      var info = stat()
      let identity = Identity(
        path: (canonical ?? parent) + "/" + url.lastPathComponent,
        file: stat(folder.path, &info) == 0 ? (info.st_dev, info.st_ino) : nil)
      if let other = seen.first(where: { $0.identity.sameFile(as: identity) }) {
        throw CLIError(
          "\(other.option) and \(folder.option) name the same path, \(folder.path): the data cache is a folder; give the file another path"
        )
      }
    }
  }

  /// Checks one output path and returns what identifies its file.
  private static func checkOne(_ output: Named) throws(CLIError) -> Identity {
    let (option, path) = output
    if path.isEmpty { throw CLIError("\(option): the path is empty") }
    let target: String
    do {
      target = try AtomicFile.finalTarget(of: path)
    } catch {
      throw CLIError("\(option) \(path): cannot follow the path: \(error.reason)")
    }
    var info = stat()
    if stat(target, &info) == 0, let kind = AtomicFile.notARegularFile(info.st_mode) {
      let suggestion = kind == "a folder" ? "give a file name in it" : "give a file path (or - for standard output)"
      throw CLIError("\(option) \(path): is \(kind), not a file; \(suggestion)")
    }
    let url = URL(fileURLWithPath: target)
    let folder = url.deletingLastPathComponent().path
    var folderInfo = stat()
    guard stat(folder, &folderInfo) == 0 else {
      throw CLIError("\(option) \(path): the folder \(folder) does not exist")
    }
    guard (folderInfo.st_mode & S_IFMT) == S_IFDIR else {
      throw CLIError("\(option) \(path): \(folder) is not a folder")
    }
    if access(folder, W_OK | X_OK) != 0 {
      throw CLIError("\(option) \(path): cannot write in the folder \(folder): \(String(cString: strerror(errno)))")
    }
    let canonicalFolder = realpath(folder, nil).map { p in
      defer { free(p) }
      return String(cString: p)
    }
    return Identity(
      path: (canonicalFolder ?? folder) + "/" + url.lastPathComponent,
      file: stat(target, &info) == 0 ? (info.st_dev, info.st_ino) : nil)
  }

  /// A file's canonical path, and its device and inode when it exists (two
  /// hard links to one file have different paths but one inode).
  struct Identity {
    var path: String
    var file: (device: UInt, inode: UInt)?

    init(path: String, file: (dev_t, ino_t)?) {
      self.path = path
      self.file = file.map { (UInt($0.0), UInt($0.1)) }
    }

    init?(existing path: String) {
      var info = stat()
      guard stat(path, &info) == 0, let p = realpath(path, nil) else { return nil }
      defer { free(p) }
      self.init(path: String(cString: p), file: (info.st_dev, info.st_ino))
    }

    func sameFile(as other: Identity) -> Bool {
      if path == other.path { return true }
      if let a = file, let b = other.file { return a == b }
      return false
    }
  }

  /// Writes `data` to `path` atomically, or to standard output for `-`.
  static func write(_ data: Data, to path: String) throws(CLIError) {
    if path == "-" {
      try StandardOutput.write(data)
      return
    }
    do {
      try AtomicFile.write(data, to: path)
    } catch {
      throw CLIError("\(path): cannot write the file: \(error.reason)")
    }
  }
}
