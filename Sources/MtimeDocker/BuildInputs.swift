import Glibc
import MtimeCore

/// Which program the wrapper drives, from what `<client> --version` printed.
public enum Client: Equatable, Sendable {
    case docker(majorVersion: Int?)
    case podman
    case buildah

    public init(versionOutput: String) {
        if versionOutput.hasPrefix("podman ") {
            self = .podman
        } else if versionOutput.hasPrefix("buildah ") {
            self = .buildah
        } else {
            self = .docker(majorVersion: Client.majorVersion(fromVersionOutput: versionOutput))
        }
    }

    /// `Docker version 20.10.24+dfsg1, build 297e128` → 20.
    static func majorVersion(fromVersionOutput output: String) -> Int? {
        guard let range = output.firstRange(of: "version ") else { return nil }
        return Int(output[range.upperBound...].prefix(while: { $0.isNumber }))
    }
}

/// Where the build's context and Dockerfile come from, decided the way the client decides it.
public struct BuildInputs: Equatable, Sendable {
    public enum Context: Equatable, Sendable {
        /// A local directory, as typed (relative to the working directory).
        case directory(String)
        /// A git or http(s) URL: the client fetches it, there is nothing on this machine to restore.
        case remote(String)
        /// `-`: a tar archive or a lone Dockerfile on stdin.
        case standardInput
    }

    public enum Dockerfile: Equatable, Sendable {
        /// A file on this machine, as the client opens it.
        case file(String)
        case standardInput
        /// `-f URL` (buildx, podman, buildah).
        case remote(String)
    }

    /// Whose rules find the Dockerfile.
    public enum Rules: Equatable, Sendable {
        /// docker/cli's classic builder client: `-f` relative to the working directory; without `-f`,
        /// `CONTEXT/Dockerfile`, else a lowercase `CONTEXT/dockerfile` (docker/cli getDockerfileRelPath).
        case classicClient
        /// BuildKit (docker 20.10's built-in frontend, buildx): the same, but the lowercase fallback applies
        /// to any path whose name is `Dockerfile` (BuildKit's dockerui, buildx handleLowercaseDockerfile),
        /// and `-f` may be an http(s) URL.
        case buildKit
        /// buildah and podman: `-f` relative to the working directory, else to the context; several `-f`
        /// are read in order; without `-f`, `CONTEXT/Containerfile`, else `CONTEXT/Dockerfile`; a context
        /// that is a file is the Containerfile, its directory the context.
        case buildah
    }

    public let context: Context
    /// The Dockerfiles the build reads, in order (one, except for several `-f` with podman or buildah).
    public let dockerfiles: [Dockerfile]

    public init(_ arguments: BuildArguments, rules: Rules) throws(DockerWrapperError) {
        var contextArgument = arguments.context
        if contextArgument == nil {
            guard rules == .buildah else {
                throw DockerWrapperError("no build context given: docker build [OPTIONS] PATH | URL | -")
            }
            contextArgument = "."
        }
        let argument = contextArgument!
        var implicitDockerfile: String?
        if argument == "-" {
            context = .standardInput
        } else if let kind = BuildInputs.kind(argument) {
            // An existing path is local, whatever it looks like (`github.com/x/y` is a URL only when absent).
            switch kind {
            case .directory:
                context = .directory(argument)
            case .regular where rules == .buildah:
                let slash = argument.lastIndex(of: "/")
                context = .directory(slash.map { String(argument[..<$0]).isEmpty ? "/" : String(argument[..<$0]) } ?? ".")
                implicitDockerfile = argument
            default:
                throw DockerWrapperError("unable to prepare context: context must be a directory: \(argument)")
            }
        } else if BuildInputs.isRemote(argument) {
            context = .remote(argument)
        } else {
            throw DockerWrapperError("unable to prepare context: path \"\(argument)\" not found")
        }

        guard case .directory(let directory) = context else {
            dockerfiles = []
            return
        }
        let given = rules == .buildah ? arguments.dockerfiles : Array(arguments.dockerfiles.suffix(1))
        if given.isEmpty {
            if let implicitDockerfile {
                dockerfiles = [.file(implicitDockerfile)]
            } else if rules == .buildah {
                let candidates = ["Containerfile", "Dockerfile"].map { BuildInputs.join(directory, $0) }
                guard let found = candidates.first(where: { BuildInputs.kind($0) == .regular }) else {
                    throw DockerWrapperError("cannot find Containerfile or Dockerfile in context directory \(directory)")
                }
                dockerfiles = [.file(found)]
            } else {
                dockerfiles = [.file(try BuildInputs.existing(BuildInputs.lowercaseFallback(BuildInputs.join(directory, "Dockerfile"))))]
            }
            return
        }
        dockerfiles = try given.map { (path: String) throws(DockerWrapperError) -> Dockerfile in
            if path == "-" { return .standardInput }
            if rules != .classicClient, path.hasPrefix("http://") || path.hasPrefix("https://") { return .remote(path) }
            switch rules {
            case .classicClient:
                return .file(try BuildInputs.existing(path))
            case .buildKit:
                return .file(try BuildInputs.existing(BuildInputs.lowercaseFallback(path)))
            case .buildah:
                if BuildInputs.kind(path) != nil || path.hasPrefix("/") { return .file(try BuildInputs.existing(path)) }
                return .file(try BuildInputs.existing(BuildInputs.join(directory, path)))
            }
        }
    }

    /// The local Dockerfile the build reads, when it reads exactly one (the one whose ignore file counts).
    public var dockerfilePath: String? {
        guard dockerfiles.count == 1, case .file(let path) = dockerfiles[0] else { return nil }
        return path
    }

    /// The forms docker, buildx, podman and buildah fetch themselves (checked only for paths that don't exist).
    static func isRemote(_ argument: String) -> Bool {
        ["http://", "https://", "git://", "git@", "github.com/", "ssh://"].contains { argument.hasPrefix($0) }
    }

    /// `DIR/Dockerfile` → `DIR/dockerfile` when only the lowercase one exists.
    static func lowercaseFallback(_ path: String) -> String {
        let slash = path.lastIndex(of: "/")
        let name = slash.map { String(path[path.index(after: $0)...]) } ?? path
        guard name == "Dockerfile", !exists(path) else { return path }
        let lowercase = (slash.map { String(path[...$0]) } ?? "") + "dockerfile"
        return exists(lowercase) ? lowercase : path
    }

    static func existing(_ path: String) throws(DockerWrapperError) -> String {
        guard exists(path) else { throw DockerWrapperError("cannot locate Dockerfile: \(path)") }
        return path
    }

    static func join(_ directory: String, _ name: String) -> String {
        directory.hasSuffix("/") ? directory + name : directory + "/" + name
    }

    enum Kind { case directory, regular, other }

    /// The kind of what `path` names, following symlinks; nil when nothing is there.
    static func kind(_ path: String) -> Kind? {
        var info = stat()
        guard stat(path, &info) == 0 else { return nil }
        switch info.st_mode & S_IFMT {
        case S_IFDIR: return .directory
        case S_IFREG: return .regular
        default: return .other
        }
    }

    /// Whether anything, a dangling symlink included, has that name (docker's os.Lstat check).
    static func exists(_ path: String) -> Bool {
        var info = stat()
        return lstat(path, &info) == 0
    }
}
