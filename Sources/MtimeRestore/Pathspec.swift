import GitKit
import MtimeCore

/// A git pathspec exactly as git parses and matches it (pathspec.c, dir.c): long magic
/// `:(top,literal,glob,icase,exclude,prefix:N)` and short magic `:/`, `:!`, `:^`; patterns typed in
/// a subdirectory are relative to it; `GIT_*_PATHSPECS` set global magic. A path matches when some
/// positive item matches it and no exclusion does; all exclusions and no positive item means
/// "everything except". `:(attr:…)` is refused, as git's own commands refuse magic they do not
/// support: libgit2's attribute lookup differs from git's (it takes `x:/…` for a drive letter).
public struct Pathspec: Sendable {
    public struct Magic: OptionSet, Sendable, Hashable {
        public let rawValue: UInt8
        public init(rawValue: UInt8) { self.rawValue = rawValue }
        public static let top = Magic(rawValue: 1 << 0)
        public static let literal = Magic(rawValue: 1 << 1)
        public static let glob = Magic(rawValue: 1 << 2)
        public static let icase = Magic(rawValue: 1 << 3)
        public static let exclude = Magic(rawValue: 1 << 4)
    }

    /// One pattern, rewritten relative to the working-tree root.
    public struct Item: Sendable {
        /// As typed: what messages quote.
        public let original: String
        /// Root-relative pattern bytes.
        public let match: [UInt8]
        public let magic: Magic
        /// How many leading bytes are the directory it was typed in: compared exactly, never as a pattern.
        public let prefixLength: Int
        /// How many leading bytes hold no wildcard (at least `prefixLength`).
        public let literalLength: Int
        /// A non-glob `literal*suffix` pattern whose suffix has no wildcard: a suffix compare does
        /// (git's PATHSPEC_ONESTAR).
        let isOneStar: Bool

        init(original: String, match: [UInt8], magic: Magic, prefixLength: Int, literalLength: Int) {
            self.original = original
            self.match = match
            self.magic = magic
            self.prefixLength = prefixLength
            self.literalLength = literalLength
            isOneStar =
                !magic.contains(.glob) && literalLength < match.count && match[literalLength] == UInt8(ascii: "*")
                && !match[(literalLength + 1)...].contains(where: GitCharacter.isGlobSpecial)
        }
    }

    /// How strong a match is (git's MATCHED_*): recorded per item to find items that matched nothing.
    public enum MatchKind: Int, Comparable, Sendable {
        case recursively = 1, pattern = 3, exactly = 4
        public static func < (lhs: MatchKind, rhs: MatchKind) -> Bool { lhs.rawValue < rhs.rawValue }
    }

    public let items: [Item]

    /// `arguments` as typed in `prefix` (relative to the working-tree root, empty at the root);
    /// `workTree` (symlink-free, absolute) lets absolute paths name files inside it, as in git.
    public init(_ arguments: [ProcessArgument], prefix: BytePath, workTree: BytePath, settings: PathspecSettings) throws(PathspecError) {
        // Git checks every argument for emptiness before parsing any.
        if arguments.contains(where: { $0.bytes.isEmpty }) { throw .emptyPattern }
        var items: [Item] = []
        for argument in arguments {
            items.append(try Pathspec.parse(argument, prefix: prefix, workTree: workTree, settings: settings))
        }
        if !items.isEmpty && items.allSatisfy({ $0.magic.contains(.exclude) }) {
            // Like `git checkout`/`git restore`: the rest of the whole tree, wherever it was typed.
            items.append(Item(original: ".", match: [], magic: [], prefixLength: 0, literalLength: 0))
        }
        self.items = items
    }

    // MARK: Parsing (pathspec.c: init_pathspec_item)

    private static func parse(_ argument: ProcessArgument, prefix: BytePath, workTree: BytePath, settings: PathspecSettings)
        throws(PathspecError) -> Item
    {
        let bytes = argument.bytes
        // Messages quote it as git does: the text (a byte that isn't UTF-8 shows as U+FFFD there).
        let element = String(decoding: bytes, as: UTF8.self)
        var elementMagic: Magic = []
        var magicPrefix: Int?
        var body = bytes[...]
        if bytes.first == UInt8(ascii: ":") && !settings.literal {
            if bytes.count > 1 && bytes[1] == UInt8(ascii: "(") {
                body = try parseLongMagic(bytes, element, &elementMagic, &magicPrefix)
            } else {
                body = try parseShortMagic(bytes, element, &elementMagic)
            }
        }
        let magic = elementMagic.union(try settings.globalMagic(for: elementMagic))
        if magic.contains(.literal) && magic.contains(.glob) { throw .literalAndGlob(element) }

        var match: [UInt8]
        var prefixLength: Int
        if let magicPrefix {
            guard prefix.isEmpty else { throw .prefixMagicBelowTop(element) }
            guard magicPrefix <= body.count else { throw .invalidPrefixMagic(element) }
            match = Array(body)
            prefixLength = magicPrefix
        } else if magic.contains(.top) {
            match = Array(body)
            prefixLength = 0
        } else {
            guard let rewritten = rewrite(body, prefix: prefix, workTree: workTree) else {
                throw .outsideRepository(element, String(decoding: Array(body), as: UTF8.self), workTree.description)
            }
            (match, prefixLength) = rewritten
        }
        var literalLength = match.count
        if !magic.contains(.literal) {
            literalLength = max(match.firstIndex(where: GitCharacter.isGlobSpecial) ?? match.count, prefixLength)
        }
        return Item(original: element, match: match, magic: magic, prefixLength: prefixLength, literalLength: literalLength)
    }

    /// `:(a,b,…)rest`: returns `rest`.
    private static func parseLongMagic(_ bytes: [UInt8], _ element: String, _ magic: inout Magic, _ magicPrefix: inout Int?)
        throws(PathspecError) -> ArraySlice<UInt8>
    {
        var position = 2
        while position < bytes.count && bytes[position] != UInt8(ascii: ")") {
            // A word ends at an unescaped `,` or `)`.
            var end = position
            while end < bytes.count {
                if bytes[end] == UInt8(ascii: "\\") && end + 1 < bytes.count { end += 2; continue }
                if bytes[end] == UInt8(ascii: ",") || bytes[end] == UInt8(ascii: ")") { break }
                end += 1
            }
            let word = Array(bytes[position..<end])
            position = end < bytes.count && bytes[end] == UInt8(ascii: ",") ? end + 1 : end
            if word.isEmpty { continue }
            let text = String(decoding: word, as: UTF8.self)
            if text.hasPrefix("prefix:") {
                let digits = text.dropFirst(7)
                guard let value = Int(digits), value >= 0, digits.allSatisfy(\.isASCII) else { throw .invalidPrefixMagic(element) }
                magicPrefix = value
                continue
            }
            if text.hasPrefix("attr:") { throw .unsupportedMagic(element, "attr") }
            switch text {
            case "top": magic.insert(.top)
            case "literal": magic.insert(.literal)
            case "glob": magic.insert(.glob)
            case "icase": magic.insert(.icase)
            case "exclude": magic.insert(.exclude)
            default: throw .unknownMagic(text, element)
            }
        }
        guard position < bytes.count else { throw .missingParenthesis(element) }
        return bytes[(position + 1)...]
    }

    /// `:/`, `:!`, `:^` (any order, any number), optionally ended by a second `:`.
    private static func parseShortMagic(_ bytes: [UInt8], _ element: String, _ magic: inout Magic) throws(PathspecError)
        -> ArraySlice<UInt8>
    {
        var position = 1
        while position < bytes.count && bytes[position] != UInt8(ascii: ":") {
            let character = bytes[position]
            if character == UInt8(ascii: "^") || character == UInt8(ascii: "!") {
                magic.insert(.exclude)
            } else if character == UInt8(ascii: "/") {
                magic.insert(.top)
            } else if GitCharacter.isPathspecMagic(character) {
                throw .unimplementedMagic(Character(Unicode.Scalar(character)), element)
            } else {
                break
            }
            position += 1
        }
        if position < bytes.count && bytes[position] == UInt8(ascii: ":") { position += 1 }
        return bytes[position...]
    }

    /// `prefix_path_gently`: the pattern joined to the prefix and normalized (`.`, `..`, repeated
    /// slashes; a trailing slash kept), or an absolute path made relative to the working tree.
    /// Returns the match and how much of it is still the prefix; nil when it leaves the working tree.
    static func rewrite(_ pattern: ArraySlice<UInt8>, prefix: BytePath, workTree: BytePath) -> ([UInt8], Int)? {
        if pattern.first == UInt8(ascii: "/") {
            var prefixLength = 0
            guard let normalized = normalize(Array(pattern), prefixLength: &prefixLength),
                let inside = partInsideWorkTree(normalized, workTree: workTree)
            else { return nil }
            return (inside, 0)
        }
        let prefixBytes = prefix.isEmpty ? [] : prefix.bytes + [UInt8(ascii: "/")]
        var prefixLength = prefixBytes.count
        guard let normalized = normalize(prefixBytes + pattern, prefixLength: &prefixLength) else { return nil }
        return (normalized, prefixLength)
    }

    /// `normalize_path_copy_len`: nil when `..` climbs above the start.
    static func normalize(_ source: [UInt8], prefixLength: inout Int) -> [UInt8]? {
        let slash = UInt8(ascii: "/"), dot = UInt8(ascii: ".")
        var output: [UInt8] = []
        var index = 0
        if source.first == slash { output.append(slash) }
        let rootLength = output.count
        while index < source.count && source[index] == slash { index += 1 }
        func at(_ i: Int) -> UInt8 { i < source.count ? source[i] : 0 }
        while true {
            var climb = false
            if at(index) == dot {
                if index + 1 >= source.count {
                    index += 1
                } else if at(index + 1) == slash {
                    index += 2
                    while at(index) == slash { index += 1 }
                    continue
                } else if at(index + 1) == dot {
                    if index + 2 >= source.count {
                        index += 2
                        climb = true
                    } else if at(index + 2) == slash {
                        index += 3
                        while at(index) == slash { index += 1 }
                        climb = true
                    }
                }
            }
            if climb {
                // Drop the last component (output ends in `/` here), or fail at the top.
                guard output.count > rootLength else { return nil }
                output.removeLast()
                if output.count <= rootLength { return nil }
                while output.count > rootLength && output.last != slash { output.removeLast() }
                prefixLength = min(prefixLength, output.count - rootLength)
                continue
            }
            while index < source.count && source[index] != slash {
                output.append(source[index])
                index += 1
            }
            if index < source.count {
                output.append(slash)
                while index < source.count && source[index] == slash { index += 1 }
                continue
            }
            break
        }
        return output
    }

    /// `abspath_part_inside_repo`: the part of a normalized absolute path below the working tree,
    /// following symlinks that lead into it; nil outside.
    private static func partInsideWorkTree(_ path: [UInt8], workTree: BytePath) -> [UInt8]? {
        let root = workTree.bytes
        let slash = UInt8(ascii: "/")
        if path.count >= root.count && path.starts(with: root) {
            if path.count > root.count && path[root.count] == slash { return Array(path[(root.count + 1)...]) }
            if root.last == slash || path.count == root.count { return Array(path[root.count...]) }
        }
        // Below that, a level whose real path is the working tree (a symlink to it) starts the inside.
        var start = 1
        if path.count >= root.count && path.starts(with: root) { start = root.count }
        for index in path.indices where index > start && path[index] == slash {
            if (try? FileSystem.resolve(BytePath(Array(path[..<index])))) == workTree {
                return Array(path[(index + 1)...])
            }
        }
        if (try? FileSystem.resolve(BytePath(path))) == workTree { return [] }
        return nil
    }

    // MARK: Matching (dir.c: match_pathspec_item, git_fnmatch)

    /// How `item` matches `path` (root-relative; `isDirectory` for a gitlink, which `sub/` names).
    func match(_ item: Item, _ path: BytePath, isDirectory: Bool) -> MatchKind? {
        let name = path.bytes
        let icase = item.magic.contains(.icase)
        if item.prefixLength > 0 && icase && !name.starts(with: item.match[..<item.prefixLength]) { return nil }
        let match = item.match
        if match.isEmpty { return .recursively }
        let matchLength = match.count
        if matchLength <= name.count && Pathspec.equal(match[...], name[..<matchLength], icase: icase) {
            if matchLength == name.count { return .exactly }
            if match[matchLength - 1] == UInt8(ascii: "/") || name[matchLength] == UInt8(ascii: "/") { return .recursively }
        } else if isDirectory && match[matchLength - 1] == UInt8(ascii: "/") && name.count == matchLength - 1
            && Pathspec.equal(match[..<(matchLength - 1)], name[...], icase: icase)
        {
            return .exactly
        }
        if item.literalLength < matchLength && Pathspec.patternMatches(item, name) { return .pattern }
        return nil
    }

    /// `git_fnmatch`: the literal part compared as bytes, the rest by wildmatch (pathname-aware for `glob`).
    private static func patternMatches(_ item: Item, _ name: [UInt8]) -> Bool {
        let literal = item.literalLength
        let icase = item.magic.contains(.icase)
        guard name.count >= literal, equal(item.match[..<literal], name[..<literal], icase: icase) else { return false }
        if item.isOneStar {
            let suffix = item.match[(literal + 1)...]
            let rest = name[literal...]
            return rest.count >= suffix.count && equal(suffix, rest.suffix(suffix.count), icase: icase)
        }
        return Wildmatch(pathname: item.magic.contains(.glob), caseFold: icase).matches(item.match[literal...], name[literal...])
    }

    private static func equal(_ a: ArraySlice<UInt8>, _ b: ArraySlice<UInt8>, icase: Bool) -> Bool {
        guard a.count == b.count else { return false }
        if !icase { return a.elementsEqual(b) }
        return zip(a, b).allSatisfy { GitCharacter.asciiLowercased($0) == GitCharacter.asciiLowercased($1) }
    }

    /// Whether `path` is selected; records in `seen` (one slot per item) the best match of each
    /// positive item, excluded paths included, as git does for its "did not match" errors. Like
    /// git, an exclusion counts as seen once any path matched a positive item.
    public func matches(_ path: BytePath, isDirectory: Bool, seen: inout [MatchKind?]) -> Bool {
        var positive = false
        for (index, item) in items.enumerated() where !item.magic.contains(.exclude) {
            guard let how = match(item, path, isDirectory: isDirectory) else { continue }
            positive = true
            if seen[index].map({ $0 < how }) ?? true { seen[index] = how }
        }
        guard positive else { return false }
        var excluded = false
        for (index, item) in items.enumerated() where item.magic.contains(.exclude) {
            seen[index] = seen[index] ?? .pattern
            if !excluded && match(item, path, isDirectory: isDirectory) != nil { excluded = true }
        }
        return !excluded
    }

    /// The typed patterns that matched no path, in the order given (`report_path_error`): a pattern is
    /// not reported when another item with the same text matched.
    public func unmatched(_ seen: [MatchKind?]) -> [String] {
        let matchedTexts = Set(items.indices.filter { seen[$0] != nil }.map { items[$0].original })
        return items.indices.compactMap { index in
            seen[index] == nil && !matchedTexts.contains(items[index].original) ? items[index].original : nil
        }
    }
}

/// The global pathspec magic git takes from `GIT_LITERAL_PATHSPECS`, `GIT_GLOB_PATHSPECS`,
/// `GIT_NOGLOB_PATHSPECS` and `GIT_ICASE_PATHSPECS` (which `git --literal-pathspecs` etc. set).
public struct PathspecSettings: Sendable, Equatable {
    public var literal = false
    public var glob = false
    public var noglob = false
    public var icase = false

    public init(literal: Bool = false, glob: Bool = false, noglob: Bool = false, icase: Bool = false) {
        self.literal = literal
        self.glob = glob
        self.noglob = noglob
        self.icase = icase
    }

    public init(environment: GitEnvironment) throws(PathspecError) {
        func flag(_ name: String) throws(PathspecError) -> Bool {
            do { return try environment.flag(name) ?? false } catch { throw .badEnvironment(error) }
        }
        literal = try flag("GIT_LITERAL_PATHSPECS")
        glob = try flag("GIT_GLOB_PATHSPECS")
        noglob = try flag("GIT_NOGLOB_PATHSPECS")
        icase = try flag("GIT_ICASE_PATHSPECS")
    }

    /// `get_global_magic`: checked per pattern, as git does (no pattern, no complaint).
    func globalMagic(for element: Pathspec.Magic) throws(PathspecError) -> Pathspec.Magic {
        var magic: Pathspec.Magic = []
        if literal { magic.insert(.literal) }
        if glob && !element.contains(.literal) { magic.insert(.glob) }
        if glob && noglob { throw .globAndNoglob }
        if icase { magic.insert(.icase) }
        if magic.contains(.literal) && magic != .literal { throw .literalWithOtherGlobalMagic }
        if noglob && !element.contains(.glob) { magic.insert(.literal) }
        return magic
    }
}
