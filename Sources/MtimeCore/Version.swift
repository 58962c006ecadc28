/// The release version: `--version` of both executables, the release archive and package names
/// (scripts/release reads it from the built binary). The one place it is written down.
public enum Version {
    public static let current = "0.1.0"
}
