import MtimeCore
import MtimeGuard
import MtimeHistory
import MtimeManifest
import MtimeRestore

/// Everything `git mtime explain` says about one path.
public struct Explanation: Sendable {
    public enum State: Sendable, Equatable {
        case clean, modified, staged, deleted, sparse, submodule
        case untracked, ignored, directory, absent
        case insideSubmodule(BytePath)
        /// In `.git`: git's own files, not the working tree's.
        case gitDirectory
        case outsideWorkingTree

        init(_ state: FileState) {
            switch state {
            case .clean: self = .clean
            case .modified: self = .modified
            case .staged: self = .staged
            case .deleted: self = .deleted
            case .sparse: self = .sparse
            case .submodule: self = .submodule
            }
        }

        public var name: String {
            switch self {
            case .clean: return "clean"
            case .modified: return "modified"
            case .staged: return "staged"
            case .deleted: return "deleted"
            case .sparse: return "sparse"
            case .submodule: return "submodule"
            case .untracked: return "untracked"
            case .ignored: return "ignored"
            case .directory: return "directory"
            case .absent: return "absent"
            case .insideSubmodule: return "inside-submodule"
            case .gitDirectory: return "git-directory"
            case .outsideWorkingTree: return "outside"
            }
        }

        /// Why restore gives it no time, when it doesn't.
        var restoreNote: String {
            switch self {
            case .clean: return ""
            case .modified: return "left alone: its content differs from HEAD's"
            case .staged: return "left alone: the index differs from HEAD"
            case .deleted: return "nothing to set: deleted from the working tree"
            case .sparse: return "nothing to set: not checked out (sparse)"
            case .submodule: return "left alone: a submodule is its own repository"
            case .untracked: return "left alone: untracked"
            case .ignored: return "left alone: ignored by git"
            case .directory: return "directories get times only with `restore --dirs` (the newest file below)"
            case .absent: return "no such file"
            case .insideSubmodule(let submodule): return "left alone: inside the submodule \(submodule)"
            case .gitDirectory: return "left alone: git's own files"
            case .outsideWorkingTree: return "outside the working tree"
            }
        }
    }

    public struct Commit: Sendable, Equatable {
        public let id: ObjectID
        /// Seconds since the epoch (committer time, or author time with --author-date).
        public let time: Int64
        public let subject: String
        /// The real last change lies beyond a shallow clone's boundary: this is the boundary commit.
        public let isShallowBoundary: Bool
    }

    public enum ManifestAnswer: Sendable, Equatable {
        case listed(ManifestEntry)
        case excludedByDockerignore
        case outsideContext
        case notListed
    }

    /// The path as given on the command line.
    public let given: String
    /// Relative to the working-tree root; nil outside it.
    public let path: BytePath?
    public internal(set) var state: State = .absent
    public internal(set) var current: Timestamp?
    /// The time restore gives it (clean files only).
    public internal(set) var restoreTime: Timestamp?
    /// Other names of the same file (hard links, a bind mount) in the working tree: restore gives
    /// them all the newest time any of them needs, so `restoreTime` is that one.
    public internal(set) var sharesTimeWith: [BytePath] = []
    public internal(set) var commit: Commit?
    /// The history mode that decided `commit`.
    public internal(set) var historyMode: HistoryMode = .firstParent
    public internal(set) var manifest: ManifestAnswer = .notListed
    /// The stamp asked about, as shown (relative to the working-tree root when inside it).
    public internal(set) var stampPath: String?
    public internal(set) var stamp: StampLoadResult?
    /// What the next guarded build (`git mtime run`) does with it; nil when it is not in that build's manifest.
    public internal(set) var guardDecision: BumpDecision?

    init(given: String, path: BytePath?) {
        self.given = given
        self.path = path
    }

    // MARK: - Output

    var restoreText: String {
        guard let restoreTime else { return state.restoreNote }
        let shared =
            sharesTimeWith.isEmpty
            ? ""
            : " (one file with \(sharesTimeWith.map(\.description).joined(separator: ", ")): every name gets the newest time any of them needs)"
        return "\(restoreTime)\(current == restoreTime ? " (already set)" : "")\(shared)"
    }

    var commitText: String {
        guard let commit else { return "" }
        return "\(commit.id.hex.prefix(12)) \(CalendarTime.utc(commit.time)) \(commit.subject) [\(historyMode.rawValue)]"
            + (commit.isShallowBoundary ? " (shallow clone boundary: the real last change is older)" : "")
    }

    var manifestText: String {
        switch manifest {
        case .listed(let entry):
            return
                "listed\(entry.isUntracked ? " as untracked" : ""), mtime \(entry.modificationTime), blob \(entry.objectID.hex.prefix(12))"
        case .excludedByDockerignore: return "not listed: excluded by .dockerignore"
        case .outsideContext: return "not listed: outside the build context"
        case .notListed:
            switch state {
            case .ignored: return "not listed: ignored by git"
            case .deleted, .absent: return "not listed: not in the working tree"
            case .submodule, .insideSubmodule: return "not listed: submodules are not part of the manifest"
            case .gitDirectory: return "not listed: git's own files"
            case .directory: return "not listed: the manifest lists files"
            default: return "not listed"
            }
        }
    }

    var stampText: String {
        switch stamp {
        case .trusted?: return "trusted"
        case .absent?: return "absent"
        case .untrusted(let reason)?: return "untrusted: \(reason)"
        case nil: return ""
        }
    }

    var guardText: String {
        switch guardDecision {
        case .bump(let reason)?: return "bumps it: \(reason.description)"
        case .keep(let reason)?: return "keeps its time: \(reason.description)"
        case nil: return state == .outsideWorkingTree ? "" : "not guarded: not in the working tree's manifest"
        }
    }

    /// A short block: the path and its state, then one line per question.
    public var text: String {
        let shown = path.map { $0.isEmpty ? "." : $0.description } ?? given
        guard state != .outsideWorkingTree else { return "\(given): outside the working tree\n" }
        var out = "\(shown): \(state.name)\n"
        out += "  mtime now:      \(current.map { "\($0) (\(CalendarTime.utc($0.seconds)))" } ?? "none (no such file)")\n"
        out += "  restore gives:  \(restoreText)\n"
        if commit != nil { out += (state == .clean ? "  decided by:     " : "  last commit:    ") + commitText + "\n" }
        out += "  manifest:       \(manifestText)\n"
        out += "  next guarded build (stamp \(stampPath ?? ""), \(stampText)): \(guardText)\n"
        return out
    }

    /// Nine NUL-terminated fields: path, state, mtime, restore time, commit, commit time, subject,
    /// manifest, guard (empty when not applicable).
    public var nulFields: [UInt8] {
        let fields: [[UInt8]] = [
            path.map { $0.isEmpty ? Array(".".utf8) : $0.bytes } ?? Array(given.utf8),
            Array(state.name.utf8),
            Array((current?.description ?? "").utf8),
            Array((restoreTime?.description ?? "").utf8),
            Array((commit?.id.hex ?? "").utf8),
            Array((commit.map { String($0.time) } ?? "").utf8),
            Array((commit?.subject ?? "").utf8),
            Array(manifestText.utf8),
            Array(guardText.utf8),
        ]
        return fields.flatMap { $0 + [0] }
    }

    public var json: JSONValue {
        var members: [(String, JSONValue)] = [
            ("path", .string(path.map { $0.isEmpty ? "." : $0.description } ?? given)),
            ("state", .string(state.name)),
            ("mtime", current.map { .string($0.description) } ?? .null),
            ("restoreTime", restoreTime.map { .string($0.description) } ?? .null),
            ("sharesTimeWith", .array(sharesTimeWith.map { .string($0.description) })),
        ]
        if let commit {
            members.append(
                (
                    "commit",
                    .object([
                        ("id", .string(commit.id.hex)), ("time", .integer(commit.time)), ("date", .string(CalendarTime.utc(commit.time))),
                        ("subject", .string(commit.subject)), ("history", .string(historyMode.rawValue)),
                        ("shallowBoundary", .bool(commit.isShallowBoundary)),
                    ])
                ))
        } else {
            members.append(("commit", .null))
        }
        switch manifest {
        case .listed(let entry):
            members.append(
                (
                    "manifest",
                    .object([
                        ("listed", .bool(true)), ("untracked", .bool(entry.isUntracked)),
                        ("mtime", .string(entry.modificationTime.description)), ("blob", .string(entry.objectID.hex)),
                    ])
                ))
        default:
            members.append(("manifest", .object([("listed", .bool(false)), ("reason", .string(manifestText))])))
        }
        if let stampPath {
            members.append(("stamp", .object([("path", .string(stampPath)), ("state", .string(stampText))])))
        }
        switch guardDecision {
        case .bump(let reason)?: members.append(("guard", .object([("bumps", .bool(true)), ("reason", .string(reason.description))])))
        case .keep(let reason)?: members.append(("guard", .object([("bumps", .bool(false)), ("reason", .string(reason.description))])))
        case nil: members.append(("guard", .null))
        }
        return .object(members)
    }
}

/// `2020-09-13 12:26:40 UTC` from seconds since the epoch (proleptic Gregorian calendar).
enum CalendarTime {
    static func utc(_ seconds: Int64) -> String {
        let days = seconds >= 0 ? seconds / 86_400 : (seconds - 86_399) / 86_400
        let secondOfDay = seconds - days * 86_400
        // Howard Hinnant's civil_from_days.
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let monthIndex = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * monthIndex + 2) / 5 + 1
        let month = monthIndex < 10 ? monthIndex + 3 : monthIndex - 9
        let year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0)
        func two(_ value: Int64) -> String { value < 10 ? "0\(value)" : "\(value)" }
        return "\(year)-\(two(month))-\(two(day)) \(two(secondOfDay / 3600)):\(two(secondOfDay % 3600 / 60)):\(two(secondOfDay % 60)) UTC"
    }
}
