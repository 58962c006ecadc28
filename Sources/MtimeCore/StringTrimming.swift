extension StringProtocol {
    /// Without leading and trailing white space (spaces, tabs, carriage returns, newlines).
    public func trimmingWhitespace() -> String { trimming(where: \.isWhitespace) }

    /// Without leading and trailing characters from `set`.
    public func trimming(_ set: String) -> String { trimming(where: { set.contains($0) }) }

    private func trimming(where isTrimmed: (Character) -> Bool) -> String {
        String(drop(while: isTrimmed).reversed().drop(while: isTrimmed).reversed())
    }
}
