import CLibGit2
import Glibc
import MtimeCore

// libgit2 reads no `git -c` setting itself, yet its own reads decide things git decides from them:
// the CRLF and ident filters (`core.autocrlf`, `core.eol`, `core.safecrlf`), attribute and ignore
// files (`core.attributesFile`, `core.excludesFile`), `core.ignoreCase`. So the settings are handed
// to it as one more configuration file, above every other (`ConfigurationFiles.commandLineLevel`,
// git's command-line scope): a memory file, named by its /proc path, that nobody else can see or change.
extension CommandLineConfig {
    /// The entries in git's configuration syntax, in order: a later one wins, as on git's command line.
    var configFileText: [UInt8] {
        var text: [UInt8] = []
        for entry in entries {
            let name = Array(entry.name.utf8)
            // A canonical name has a section and a variable (`canonicalName`).
            guard let firstDot = name.firstIndex(of: UInt8(ascii: ".")), let lastDot = name.lastIndex(of: UInt8(ascii: "."))
            else { continue }
            text += Array("[".utf8) + name[..<firstDot]
            if firstDot < lastDot {
                text += Array(" \"".utf8) + CommandLineConfig.quoted(name[(firstDot + 1)..<lastDot]) + [UInt8(ascii: "\"")]
            }
            text += Array("]\n\t".utf8) + name[(lastDot + 1)...]
            // No value: an implicit `true`, written as git writes one (the name alone).
            if let value = entry.value { text += Array(" = \"".utf8) + CommandLineConfig.quoted(value[...]) + [UInt8(ascii: "\"")] }
            text.append(UInt8(ascii: "\n"))
        }
        return text
    }

    /// Inside double quotes: `\` and `"` escaped, and the control characters git's parser unescapes
    /// (a raw newline would end the line).
    private static func quoted(_ bytes: ArraySlice<UInt8>) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count)
        for byte in bytes {
            switch byte {
            case UInt8(ascii: "\\"), UInt8(ascii: "\""): out += [UInt8(ascii: "\\"), byte]
            case UInt8(ascii: "\n"): out += Array("\\n".utf8)
            case UInt8(ascii: "\t"): out += Array("\\t".utf8)
            case 0x08: out += Array("\\b".utf8)
            default: out.append(byte)
            }
        }
        return out
    }

    /// Adds the entries to `config` at git's command-line level. The returned memory file holds them:
    /// keep it open while `config` is in use (libgit2 checks the file before it reads settings).
    func addLayer(to config: OpaquePointer, repository handle: OpaquePointer) throws(GitError) -> FileDescriptor {
        let operation = "give libgit2 the git -c settings"
        let fd = gitmtime_memfd_create("git-mtime-config")
        guard fd >= 0 else { throw GitError(code: -1, operation: operation, message: SystemError.last("memfd_create", nil).description) }
        let file = FileDescriptor(adopting: fd, path: BytePath("/proc/self/fd/\(fd)"))
        do throws(SystemError) {
            try file.write(configFileText)
            // Without /proc the name leads nowhere, and libgit2 would take a missing file for an empty one.
            guard try FileSystem.status(file.path, followingSymlinks: true).isSameFile(as: file.status()) else {
                throw SystemError(operation: "stat", path: file.path, errno: .notFound)
            }
        } catch {
            throw GitError(code: -1, operation: operation, message: error.description)
        }
        try check(
            operation,
            (try? file.path.withCString { git_config_add_file_ondisk(config, $0, ConfigurationFiles.commandLineLevel, handle, 0) }) ?? -1)
        return file
    }
}
