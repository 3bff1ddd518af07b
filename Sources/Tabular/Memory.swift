import Foundation

/// Memory this process can still take, in bytes: the kernel's MemAvailable,
/// or less when a cgroup (a container) sets a lower limit; nil where neither
/// can be read.
package func availableMemory() -> Double? {
  var available: Double?
  if let info = try? String(contentsOfFile: "/proc/meminfo", encoding: .utf8),
    let line = info.split(separator: "\n").first(where: { $0.hasPrefix("MemAvailable:") }),
    let kB = Double(line.split(separator: " ").dropFirst().first ?? "")
  {
    available = kB * 1024
  }
  if let limitText = try? String(contentsOfFile: "/sys/fs/cgroup/memory.max", encoding: .utf8),
    let limit = Double(limitText.trimmingCharacters(in: .whitespacesAndNewlines)),
    let usedText = try? String(contentsOfFile: "/sys/fs/cgroup/memory.current", encoding: .utf8),
    let used = Double(usedText.trimmingCharacters(in: .whitespacesAndNewlines))
  {
    available = min(available ?? .infinity, max(0, limit - used))
  }
  return available
}
