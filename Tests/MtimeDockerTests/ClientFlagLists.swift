import Foundation

/// One option of a client's build command, as its flag list states it.
struct ClientFlag: Hashable, CustomStringConvertible {
    var long: String
    var short: Character?
    var takesValue: Bool
    var description: String { "--\(long)\(short.map { " (-\($0))" } ?? "")\(takesValue ? " VALUE" : "")" }
}

/// The flag lists in Fixtures/: `--help` output of the installed clients and the docker/buildx
/// reference table (each file names its origin in its first lines).
enum ClientFlagLists {
    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures")

    static let helpFiles = [
        "docker-20.10-classic-build-help.txt", "docker-20.10-buildkit-build-help.txt", "docker-28-classic-build-help.txt",
        "podman-4.3-build-help.txt", "buildah-1.28-build-help.txt",
    ]
    static let tableFiles = ["buildx-build-flags.md", "docker-20.10-hidden-build-flags.md"]

    /// Every flag of every list, deduplicated.
    static func all() throws -> [ClientFlag] {
        var flags: [ClientFlag] = []
        for name in helpFiles { flags += try parseHelp(String(contentsOf: directory.appendingPathComponent(name), encoding: .utf8)) }
        for name in tableFiles { flags += try parseTable(String(contentsOf: directory.appendingPathComponent(name), encoding: .utf8)) }
        var seen = Set<ClientFlag>()
        return flags.filter { seen.insert($0).inserted }
    }

    /// cobra's help: `  -f, --file string   Name of…`, `      --pull   Always…`, `--pull string[="true"]` (an
    /// optional value: never the next word).
    static func parseHelp(_ text: String) -> [ClientFlag] {
        var flags: [ClientFlag] = []
        for line in text.split(separator: "\n") {
            guard let match = line.firstMatch(of: /^\s+(?:-(\w), )?--([\w-]+)(?: (\S+))?\s{2,}/) else { continue }
            let type = match.3.map(String.init)
            flags.append(
                ClientFlag(
                    long: String(match.2), short: match.1.flatMap(\.first),
                    takesValue: type != nil && !type!.contains("[=")))
        }
        return flags
    }

    /// docker's generated reference tables: ``| [`-f`](#file), [`--file`](#file) | `string` | …``.
    static func parseTable(_ text: String) -> [ClientFlag] {
        var flags: [ClientFlag] = []
        for line in text.split(separator: "\n") {
            guard let match = line.firstMatch(of: /^\|\s*(?:\S*`-(\w)`\S*, )?\S*`--([\w-]+)`\S*\s*\|\s*`(\w+)`/) else { continue }
            flags.append(ClientFlag(long: String(match.2), short: match.1.flatMap(\.first), takesValue: match.3 != "bool"))
        }
        return flags
    }
}
