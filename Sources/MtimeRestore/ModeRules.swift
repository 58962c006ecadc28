import GitKit
import MtimeCore

/// What a working-tree file's type and executable bit must be for a git mode, under the settings
/// git reads for it (`ce_match_stat_basic`): `core.fileMode` (false: the executable bit on disk
/// means nothing) and `core.symlinks` (false: git checks a symlink out as a regular file holding
/// its target, and such a file is the link, clean when its bytes are the link's blob; defect 25).
public struct ModeRules: Sendable, Equatable {
    public let trustsExecutableBit: Bool
    public let hasSymlinks: Bool

    public init(trustsExecutableBit: Bool = true, hasSymlinks: Bool = true) {
        self.trustsExecutableBit = trustsExecutableBit
        self.hasSymlinks = hasSymlinks
    }

    /// The repository's settings (both default to true, as for git on Linux).
    init(_ repository: Repository) throws(GitError) {
        self.init(
            trustsExecutableBit: try repository.configBool("core.filemode", default: true),
            hasSymlinks: try repository.configBool("core.symlinks", default: true))
    }

    /// Whether `status` is what a file of git `mode` must be.
    func hasExpectedType(_ status: FileStatus, mode: UInt32) -> Bool {
        switch mode {
        case 0o120000: return status.kind == .symlink || (!hasSymlinks && status.kind == .regular)
        case 0o100755: return status.kind == .regular && (status.isExecutable || !trustsExecutableBit)
        default: return status.kind == .regular && (!status.isExecutable || !trustsExecutableBit)
        }
    }
}
