/// Which build options take a value, the one thing the wrapper must know about the options it passes
/// through: without it, `--label ctx .` would make `ctx` the context. The union over the clients the
/// wrapper drives (Tests/MtimeDockerTests/Fixtures holds their flag lists; the tests check every flag):
/// docker build 20.10 (classic and BuildKit) and 28, docker buildx build (docker/buildx source, with its
/// hidden and former experimental flags), podman build 4.3 and buildah build 1.28. No name means a value
/// in one client and none in another.
enum BuildFlags {
    /// `--name value` / `--name=value`.
    static let longWithValue: Set<String> = [
        "add-host", "allow", "annotation", "arch", "attest", "authfile", "build-arg", "build-context", "builder",
        "cache-from", "cache-to", "cache-ttl", "call", "cap-add", "cap-drop", "cert-dir", "cgroup-parent", "cgroupns",
        "cpp-flag", "cpu-period", "cpu-quota", "cpu-shares", "cpuset-cpus", "cpuset-mems", "creds", "decryption-key",
        "device", "dns", "dns-option", "dns-search", "env", "file", "format", "from", "hooks-dir", "ignorefile", "iidfile",
        "invoke", "ipc", "isolation", "jobs", "label", "logfile", "manifest", "memory", "memory-swap", "metadata-file",
        "network", "no-cache-filter", "os", "os-feature", "os-version", "output", "pid", "platform", "policy", "print",
        "progress", "provenance", "resource", "retry", "retry-delay", "root", "runtime", "runtime-flag", "sbom", "secret",
        "security-opt", "server-config", "shm-size", "sign-by", "ssh", "tag", "target", "timestamp", "ulimit", "unsetenv",
        "userns", "userns-gid-map", "userns-gid-map-group", "userns-uid-map", "userns-uid-map-user", "uts", "variant",
        "volume",
    ]
    /// Booleans, and options whose value is optional (buildx `--check`, podman `--pull`): never the next word.
    static let longWithoutValue: Set<String> = [
        "all-platforms", "check", "compress", "debug", "detach", "disable-compression", "disable-content-trust",
        "force-rm", "help", "http-proxy", "identity-label", "layers", "load", "logsplit", "no-cache", "no-hosts",
        "omit-history", "pull", "push", "quiet", "rm", "skip-unused-stages", "squash", "squash-all", "stdin", "stream",
        "tls-verify",
    ]
    static let shortWithValue: Set<Character> = ["c", "f", "m", "o", "t", "v"]
    static let shortWithoutValue: Set<Character> = ["D", "h", "q"]

    /// docker's, podman's and buildah's global options that take a value (they may stand before `build`).
    static let globalWithValue: Set<String> = [
        "--config", "-c", "--context", "-H", "--host", "-l", "--log-level", "--tlscacert", "--tlscert", "--tlskey",
        "--root", "--runroot", "--storage-driver", "--storage-opt", "--cgroup-manager", "--url", "--connection",
        "--identity", "--registries-conf", "--registries-conf-dir", "--tmpdir", "--runtime", "--conmon",
        "--events-backend", "--network-cmd-path", "--network-config-dir", "--hooks-dir", "--userns-uid-map",
        "--userns-gid-map", "--default-mounts-file", "--short-name-alias-conf", "--cpu-profile", "--memory-profile",
        "--module", "--ssh", "--volumepath", "--imagestore", "--runtime-flag", "--signature-policy",
    ]
    /// `docker buildx` options that may stand between `buildx` and `build`.
    static let buildxWithValue: Set<String> = ["--builder"]
}
