import Glibc
import MtimeCore

/// The environment variables git itself reads (`GIT_DIR`, `GIT_WORK_TREE`, …), as raw bytes: paths
/// need not be UTF-8. `git --git-dir=A --work-tree=B mtime` reaches us as `GIT_DIR=A GIT_WORK_TREE=B`,
/// and git sets `GIT_DIR` for hooks.
public struct GitEnvironment: Sendable, Equatable {
    private var values: [String: [UInt8]]

    public init(_ values: [String: String] = [:]) {
        self.values = values.mapValues { Array($0.utf8) }
    }

    /// The `GIT_*` variables of this process.
    public static func current() -> GitEnvironment {
        var environment = GitEnvironment()
        var entry = environ
        while let pointer = entry.pointee {
            let bytes = Array(UnsafeRawBufferPointer(start: pointer, count: strlen(pointer)))
            if bytes.starts(with: Array("GIT_".utf8)), let equals = bytes.firstIndex(of: UInt8(ascii: "=")) {
                environment.values[String(decoding: bytes[..<equals], as: UTF8.self)] = Array(bytes[(equals + 1)...])
            }
            entry += 1
        }
        return environment
    }

    public subscript(name: String) -> [UInt8]? {
        get { values[name] }
        set { values[name] = newValue }
    }

    public func path(_ name: String) -> BytePath? { values[name].map(BytePath.init) }

    /// git's `local_repo_env`: the variables that describe one repository, which git clears before it
    /// runs a command in another one.
    public static let localRepositoryVariables: Set<String> = [
        "GIT_ALTERNATE_OBJECT_DIRECTORIES", "GIT_CONFIG", "GIT_CONFIG_PARAMETERS", "GIT_CONFIG_COUNT",
        "GIT_OBJECT_DIRECTORY", "GIT_DIR", "GIT_WORK_TREE", "GIT_IMPLICIT_WORK_TREE", "GIT_GRAFT_FILE",
        "GIT_INDEX_FILE", "GIT_NO_REPLACE_OBJECTS", "GIT_REPLACE_REF_BASE", "GIT_PREFIX", "GIT_SHALLOW_FILE",
        "GIT_COMMON_DIR",
    ]

    /// The environment git gives a submodule (`prepare_submodule_repo_env`): the local variables
    /// cleared, `git -c` settings kept.
    public func forSubmodule() -> GitEnvironment {
        var environment = self
        for name in GitEnvironment.localRepositoryVariables where name != "GIT_CONFIG_PARAMETERS" && name != "GIT_CONFIG_COUNT" {
            environment.values[name] = nil
        }
        return environment
    }

    /// `git_env_bool`: nil when unset; git's boolean spellings (true/yes/on, false/no/off, empty is
    /// false, a number is true unless 0, with an optional k/m/g unit); anything else is an error.
    public func flag(_ name: String) throws(GitEnvironmentError) -> Bool? {
        guard let raw = values[name] else { return nil }
        let text = String(decoding: raw, as: UTF8.self)
        switch text.lowercased() {
        case "": return false
        case "true", "yes", "on": return true
        case "false", "no", "off": return false
        default:
            var digits = Substring(text.drop(while: { $0 == " " || $0 == "\t" || $0 == "\n" }))
            if let unit = digits.last, "kmgKMG".contains(unit) { digits = digits.dropLast() }
            guard let number = Int64(digits) else { throw GitEnvironmentError(name: name, value: text) }
            return number != 0
        }
    }
}
