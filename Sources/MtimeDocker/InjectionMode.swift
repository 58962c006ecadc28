/// How guard and manifest reach the `RUN --mount=type=bind,from=git-mtime,…` line.
public enum InjectionMode: Equatable, Sendable, CustomStringConvertible {
    /// buildx, buildah and podman: `--build-context git-mtime=DIR`.
    case buildContext
    /// Docker's built-in BuildKit without buildx (Debian's docker 20.10 with DOCKER_BUILDKIT=1): `from=`
    /// also resolves a local image, so a tiny image is tagged `git-mtime` for the length of the build
    /// (one wrapped build at a time holds that tag).
    case taggedImage
    /// The classic builder has no `RUN --mount`: a temporary Dockerfile copies guard and manifest from
    /// a uniquely tagged tiny image instead. It runs under BuildKit too, so it is also the fallback.
    case rewrittenDockerfile

    public var description: String {
        switch self {
        case .buildContext: return "--build-context (buildx, buildah, podman)"
        case .taggedImage: return "BuildKit, local image tagged \(DockerfileGuardLines.sourceName)"
        case .rewrittenDockerfile: return "classic builder, rewritten Dockerfile"
        }
    }

    /// - Parameters:
    ///   - clientVersion: what `<client> --version` printed.
    ///   - buildkit: the `DOCKER_BUILDKIT` environment variable, if set.
    ///   - buildxAvailable: whether `docker buildx version` succeeds (asked only when it matters).
    public static func select(builder: BuildArguments.Builder, clientVersion: String, buildkit: String?,
                              buildxAvailable: () -> Bool) -> InjectionMode {
        // buildah (and podman, which builds with it) take --build-context in `build`.
        if builder == .buildx || clientVersion.hasPrefix("buildah ") || clientVersion.hasPrefix("podman ") { return .buildContext }
        let clientMajorVersion = clientMajorVersion(fromVersionOutput: clientVersion)
        switch buildkit.flatMap(parseBoolean) {
        case false?:
            return .rewrittenDockerfile
        case true?:
            // docker 23+ runs every BuildKit build through buildx.
            if let major = clientMajorVersion, major >= 23 { return .buildContext }
            return .taggedImage
        case nil:
            // docker 23+ defaults to buildx when installed, else to the classic builder; older clients
            // default to the classic builder unless the daemon says otherwise, which the rewrite also survives.
            if let major = clientMajorVersion, major >= 23, buildxAvailable() { return .buildContext }
            return .rewrittenDockerfile
        }
    }

    /// `Docker version 20.10.24+dfsg1, build 297e128` → 20.
    public static func clientMajorVersion(fromVersionOutput output: String) -> Int? {
        guard let range = output.firstRange(of: "version ") else { return nil }
        return Int(output[range.upperBound...].prefix(while: { $0.isNumber }))
    }

    /// Docker's own reading of DOCKER_BUILDKIT (Go's strconv.ParseBool).
    static func parseBoolean(_ text: String) -> Bool? {
        switch text {
        case "1", "t", "T", "true", "TRUE", "True": return true
        case "0", "f", "F", "false", "FALSE", "False": return false
        default: return nil
        }
    }
}
