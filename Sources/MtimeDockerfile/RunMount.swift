/// A `RUN --mount=…` flag, read as BuildKit's `instructions.ParseMount` reads it: comma-separated
/// fields (a field may be double-quoted), `key=value` or a bare boolean key, keys case-insensitive,
/// values expanded with the variables in scope.
public struct RunMount: Sendable, Equatable {
    public enum Kind: String, Sendable {
        case bind, cache, tmpfs, secret, ssh
    }

    public var kind: Kind = .bind
    /// Absolute: a relative target is resolved against the RUN's working directory.
    public var target: String?
    /// `source`/`src`: the path inside `from` (or the build context).
    public var source: String?
    /// `from`: a stage, image or named build context; nil for the build context itself.
    public var from: String?
    public var id: String?
    public var isReadOnly: Bool
    /// The flag as written, and where it is in the instruction's logical line.
    public let flag: Flag

    /// A bind mount of the build context (no `from`): the files keep the context's mtimes.
    public var bindsContext: Bool { kind == .bind && (from == nil || from == "") }

    public init(_ flag: Flag, workdir: String, expand: (String) throws(WordError) -> String) throws(WordError) {
        self.flag = flag
        var kind = Kind.bind
        var readOnly: Bool?
        var fields: [(String, String?)] = []
        for field in RunMount.fields(flag.value ?? "") {
            if let equals = field.firstIndex(of: "=") {
                fields.append((field[..<equals].lowercased(), try expand(String(field[field.index(after: equals)...]))))
            } else {
                fields.append((field.lowercased(), nil))
            }
        }
        for (key, value) in fields where key == "type" {
            guard let value, let parsed = Kind(rawValue: value.lowercased()) else {
                throw WordError("unsupported mount type \"\(value ?? "")\"")
            }
            kind = parsed
        }
        self.kind = kind
        for (key, value) in fields {
            switch key {
            case "target", "dst", "destination": target = value.map { UnixPath.resolve($0, against: workdir) }
            case "source", "src": source = value
            case "from": from = value
            case "id": id = value
            case "readonly", "ro": readOnly = value.map { RunMount.parseBoolean($0) } ?? true
            case "readwrite", "rw": readOnly = !(value.map { RunMount.parseBoolean($0) } ?? true)
            default: break
            }
        }
        // Bind mounts are read-only unless `rw`; cache mounts writable.
        isReadOnly = readOnly ?? (kind == .bind)
    }

    /// Go's `encoding/csv` reading of one record, leniently: a field starting with `"` runs to the
    /// closing quote (`""` is a quote), any other field to the next comma.
    static func fields(_ value: String) -> [String] {
        var fields: [String] = []
        var field = ""
        var iterator = Array(value).makeIterator()
        var quoted = false
        var atStart = true
        while let character = iterator.next() {
            if quoted {
                if character == "\"" {
                    if let following = iterator.next() {
                        if following == "\"" {
                            field.append("\"")
                        } else {
                            quoted = false
                            if following == "," { fields.append(field); field = ""; atStart = true } else { field.append(following) }
                        }
                    } else {
                        quoted = false
                    }
                } else {
                    field.append(character)
                }
                continue
            }
            if character == "," { fields.append(field); field = ""; atStart = true; continue }
            if character == "\"" && atStart { quoted = true; atStart = false; continue }
            atStart = false
            field.append(character)
        }
        fields.append(field)
        return fields.filter { !$0.isEmpty }
    }

    static func parseBoolean(_ text: String) -> Bool {
        ["1", "t", "T", "true", "TRUE", "True"].contains(text)
    }
}
