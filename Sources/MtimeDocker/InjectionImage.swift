import MtimeCore

/// The client the wrapper drives, with the user's global options (`-H`, `--context`, podman's
/// `--root`) on every call, so each call reaches the engine the build uses.
public struct ClientCommand: Sendable {
    public let executable: String
    public let globalOptions: [String]

    public func run(_ arguments: [String]) throws(ChildProcessError) -> Termination {
        try ChildProcess.run(ProcessArgument.words([executable] + globalOptions + arguments))
    }

    func capture(_ arguments: [String]) throws(SystemError) -> (termination: Termination, output: String) {
        try ChildProcess.capture(ProcessArgument.words([executable] + globalOptions + arguments))
    }
}

/// A tiny image holding guard and manifest under a name no one else uses: `git-mtime-inject:<128
/// random bits>`, imported from a tar archive (`docker import`), so its id is unique too. Nothing is
/// shared with another build on the same daemon: no tag to take turns with, no image id two tags
/// point at, no cache entry to race for. The rewritten Dockerfile names it; removal takes only this tag
/// and only while it still names the image made here.
struct InjectionImage {
    static let repository = "\(DockerfileGuardLines.sourceName)-inject"
    /// Lets `docker image ls --filter label=git-mtime.inject` find images a killed wrapper left behind.
    static let label = "git-mtime.inject"
    /// Random names tried before the client is taken to answer "exists" for any name.
    static let maximumDraws = 4

    let reference: String
    let id: String

    /// `files`: guard, manifest and whatever else goes beside them (`TarArchive.files`).
    init(files: [(name: String, contents: [UInt8], mode: Int)], client: ClientCommand, directory: PrivateDirectory) throws {
        var reference = InjectionImage.randomReference()
        // A name already taken (never seen: 128 random bits) is someone else's: never overwrite it.
        // A client that says every fresh name is taken (a stub, a shim answering 0 to everything)
        // would keep this loop going for ever: a few draws, then an error.
        var draws = 1
        while try client.capture(["image", "inspect", "--format", "{{.Id}}", reference]).termination == .exited(0) {
            guard draws < InjectionImage.maximumDraws else {
                throw DockerWrapperError(
                    "\(client.executable) says each of \(draws) fresh random image names already exists "
                        + "(`\(client.executable) image inspect` exits 0 for \(reference)); is it a real docker, podman or buildah?")
            }
            draws += 1
            reference = InjectionImage.randomReference()
        }
        let archive = try directory.write("inject.tar", TarArchive.files(files), permissions: 0o600)
        let result = try client.capture([
            "import", "--change", "LABEL \(InjectionImage.label)=true", DockerBuildWrapper.text(archive), reference,
        ])
        let id = result.output.trimmingWhitespace()
        guard result.termination == .exited(0), id.hasPrefix("sha256:") else {
            throw DockerWrapperError(
                "could not import the image holding the guard (\(client.executable) import): \(result.output.trimmingWhitespace())")
        }
        self.reference = reference
        self.id = id
    }

    /// Removes the tag, if it still names the image made here; false when it could not.
    func remove(client: ClientCommand) -> Bool {
        guard let current = try? client.capture(["image", "inspect", "--format", "{{.Id}}", reference]),
            current.termination == .exited(0), current.output.trimmingWhitespace() == id
        else { return false }
        return (try? client.capture(["image", "rm", reference]))?.termination == .exited(0)
    }

    static func randomReference() -> String {
        let hex = (0..<2).map { _ in
            let value = UInt64.random(in: .min ... .max)
            let digits = String(value, radix: 16)
            return String(repeating: "0", count: 16 - digits.count) + digits
        }
        return "\(repository):\(hex.joined())"
    }
}

/// A ustar archive of regular files at its root, owned by root, mtime 0: the same bytes for the same
/// files, so the build's cache sees the same content.
enum TarArchive {
    static func files(_ files: [(name: String, contents: [UInt8], mode: Int)]) -> [UInt8] {
        var archive: [UInt8] = []
        for file in files {
            var header = [UInt8](repeating: 0, count: 512)
            func put(_ text: String, at offset: Int) {
                for (index, byte) in text.utf8.enumerated() { header[offset + index] = byte }
            }
            func octal(_ value: Int, width: Int) -> String {
                let digits = String(value, radix: 8)
                return String(repeating: "0", count: width - 1 - digits.count) + digits
            }
            put(file.name, at: 0)
            put(octal(file.mode, width: 8), at: 100)
            put(octal(0, width: 8), at: 108)
            put(octal(0, width: 8), at: 116)
            put(octal(file.contents.count, width: 12), at: 124)
            put(octal(0, width: 12), at: 136)
            put("        ", at: 148)
            put("0", at: 156)
            put("ustar", at: 257)
            put("00", at: 263)
            put("root", at: 265)
            put("root", at: 297)
            let checksum = header.reduce(0) { $0 + Int($1) }
            put(octal(checksum, width: 7) + "\0 ", at: 148)
            archive += header
            archive += file.contents
            archive += [UInt8](repeating: 0, count: (512 - file.contents.count % 512) % 512)
        }
        archive += [UInt8](repeating: 0, count: 1024)
        return archive
    }
}
