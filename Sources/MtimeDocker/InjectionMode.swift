/// How guard and manifest reach the `RUN --mount=type=bind,from=git-mtime,…` line. Every mode is private
/// to one build: nothing on a shared daemon is named `git-mtime`, so concurrent builds of other users
/// or CI jobs on the same daemon never see each other's guard or manifest.
public enum InjectionMode: Equatable, Sendable, CustomStringConvertible {
    /// buildx, buildah and podman: `--build-context git-mtime=DIR`.
    case buildContext
    /// Docker's built-in BuildKit without buildx (docker < 23 with DOCKER_BUILDKIT=1): a temporary copy
    /// of the Dockerfile whose guard mount reads `from=` a per-build image (BuildKit resolves local images).
    case rewrittenMountSource
    /// The classic builder has no `RUN --mount`: a temporary copy of the Dockerfile copies guard and
    /// manifest from a per-build image instead. It runs under BuildKit too, so it is also the fallback.
    case rewrittenForClassicBuilder

    public var description: String {
        switch self {
        case .buildContext: return "--build-context (buildx, buildah, podman)"
        case .rewrittenMountSource: return "BuildKit, a per-build image named in a temporary Dockerfile"
        case .rewrittenForClassicBuilder: return "classic builder, a per-build image copied in by a temporary Dockerfile"
        }
    }

    /// Whose rules find the Dockerfile in this mode.
    func dockerfileRules(for client: Client) -> BuildInputs.Rules {
        switch (self, client) {
        case (_, .podman), (_, .buildah): return .buildah
        case (.rewrittenForClassicBuilder, _): return .classicClient
        default: return .buildKit
        }
    }

    /// - Parameters:
    ///   - buildkit: the `DOCKER_BUILDKIT` environment variable, if set.
    ///   - buildxAvailable: whether `docker buildx version` succeeds (asked only when it matters).
    public static func select(
        client: Client, builder: BuildArguments.Builder, buildkit: String?,
        buildxAvailable: () -> Bool
    ) -> InjectionMode {
        // buildah (and podman, which builds with it) take --build-context in `build`.
        guard case .docker(let major) = client else { return .buildContext }
        if builder == .buildx { return .buildContext }
        switch buildkit.flatMap(GoBoolean.parse) {
        case false?:
            return .rewrittenForClassicBuilder
        case true?:
            // docker 23+ runs every BuildKit build through buildx.
            if let major, major >= 23 { return .buildContext }
            return .rewrittenMountSource
        case nil:
            // docker 23+ defaults to buildx when installed, else to the classic builder; older clients
            // default to the classic builder unless the daemon says otherwise, which the rewrite also survives.
            if let major, major >= 23, buildxAvailable() { return .buildContext }
            return .rewrittenForClassicBuilder
        }
    }
}
