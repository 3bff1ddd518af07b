extension Matrix: CustomStringConvertible, CustomDebugStringConvertible {
  /// The shape first, then the rows; for more than 8 rows or columns the middle
  /// is elided with `…`, as NumPy does:
  ///
  ///     Matrix<Float> 2×3
  ///     [[1.0, 2.0, 3.0],
  ///      [4.0, 5.0, 6.0]]
  public var description: String {
    let edge = 3
    func picks(_ n: Int) -> [Int?] {
      n <= 2 * edge + 2 ? Array(0..<n) : Array(0..<edge) + [nil] + Array((n - edge)..<n)
    }
    let rowPicks = picks(rows)
    let columnPicks = picks(columns)
    var lines: [String] = []
    for (k, i) in rowPicks.enumerated() {
      let open = k == 0 ? "[[" : " ["
      let close = k == rowPicks.count - 1 ? "]]" : "],"
      guard let i else {
        lines.append(" …")
        continue
      }
      let cells = columnPicks.map { j in j.map { "\(self[i, $0])" } ?? "…" }
      lines.append(open + cells.joined(separator: ", ") + close)
    }
    let header = "Matrix<\(Scalar.self)> \(shape)"
    return rows == 0 || columns == 0 ? header + " []" : header + "\n" + lines.joined(separator: "\n")
  }

  public var debugDescription: String { description }
}
