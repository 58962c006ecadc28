/// One instruction's text with its continuation lines joined (escape token and line end removed,
/// as Docker joins them), remembering where each byte came from so an edit can be made on the
/// physical lines.
public struct LogicalLine: Sendable, Equatable {
    public private(set) var text: [UInt8] = []
    /// Each joined piece: where it starts in `text`, and the physical line and column it came from.
    private var pieces: [(start: Int, line: Int, column: Int)] = []

    public init() {}

    mutating func append(_ bytes: ArraySlice<UInt8>, line: Int, column: Int) {
        pieces.append((text.count, line, column))
        text += bytes
    }

    /// The physical line and 0-based byte column of the byte at `offset` (`offset == text.count`: just
    /// after the last byte). `after: true` places an offset that starts a piece at the end of the previous
    /// piece instead (an insertion that belongs to the text before it).
    public func position(of offset: Int, after: Bool = false) -> (line: Int, column: Int) {
        guard !pieces.isEmpty else { return (1, 0) }
        var chosen = 0
        for (index, piece) in pieces.enumerated() where piece.start <= offset {
            if after && piece.start == offset && index > 0 && offset > 0 { break }
            chosen = index
        }
        let piece = pieces[chosen]
        return (piece.line, piece.column + offset - piece.start)
    }

    public static func == (lhs: LogicalLine, rhs: LogicalLine) -> Bool {
        lhs.text == rhs.text && lhs.pieces.elementsEqual(rhs.pieces) { $0 == $1 }
    }
}
