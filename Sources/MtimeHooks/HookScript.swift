import MtimeCore

/// The git hooks git-mtime installs, and the POSIX sh script each one is. The copies in the
/// repository's `hooks/` directory are these exact bytes (a test keeps them in step).
public enum HookName: String, CaseIterable, Sendable {
    case postCheckout = "post-checkout"
    case postMerge = "post-merge"
    case postRewrite = "post-rewrite"

    /// Where a hook that was installed before ours is kept; our script runs it first.
    public var chainedName: String { rawValue + HookScript.chainedSuffix }
}

public enum HookScript {
    /// The second line of every script we write: how we recognise our own files (and never chain them).
    public static let marker = "# git-mtime hook:"
    public static let chainedSuffix = ".git-mtime-chained"
    /// Set by our script for the chained hook it runs, to that hook's path: our script started while
    /// that hook runs (as a copy or symlink kept under its name, or from a wrapper there that calls
    /// the hook by any path) finds its own chained hook named there (`-ef`: the same file) and does nothing.
    public static let chainGuardVariable = "GIT_MTIME_CHAINED_HOOK"

    /// True when `contents` carries our marker: a script git-mtime wrote, edited or not.
    public static func isOurs(_ contents: [UInt8]) -> Bool {
        let lines = contents.split(separator: UInt8(ascii: "\n"), maxSplits: 2, omittingEmptySubsequences: false)
        return lines.count > 1 && lines[1].starts(with: Array(marker.utf8))
    }

    /// True when `contents` is byte for byte a script some version of git-mtime wrote for `hook`:
    /// only then may install replace it or uninstall delete it (anything else holds someone's edits).
    public static func isUnedited(_ contents: [UInt8], for hook: HookName) -> Bool {
        contents == Array(text(for: hook).utf8) || earlierVersions[hook, default: []].contains(BlobHasher.hash(bytes: contents))
    }

    /// Blob ids (`git hash-object`) of the scripts earlier releases wrote.
    static let earlierVersions: [HookName: [ObjectID]] = [
        .postCheckout: [ObjectID(hex: "d14d42b82be8a24aa038216e0d51e3f6f19fe457")!],
        .postMerge: [ObjectID(hex: "80cd197962bbb6510ab1b972a3a3ed816f4ca696")!],
        .postRewrite: [ObjectID(hex: "9e362eacc5f0d01b62252305967801904d8fa691")!],
    ]

    /// The script for `hook`. The user's previous hook runs first with the same arguments (and, for
    /// post-rewrite, the same standard input, byte for byte); its exit status is the script's exit
    /// status, and the git-mtime part only ever reports a problem on stderr.
    public static func text(for hook: HookName) -> String {
        let name = hook.rawValue
        let readsInput = hook == .postRewrite
        var script = """
            #!/bin/sh
            \(marker) \(name) (written by `git mtime hooks install`; `git mtime hooks uninstall` removes it)
            # A hook that was here before was moved to \(hook.chainedName): it runs first and its exit
            # status is what git sees. Setting mtimes never fails the git operation. Put commands of your
            # own in \(hook.chainedName), not here: install and uninstall never replace an edited copy.
            chained="${0%/*}/\(hook.chainedName)"
            # Started from inside our own chained hook (a copy, a symlink or a wrapper of this script kept
            # under that name, whatever path it used): the outer run does the work, else the chain never ends.
            [ -n "${\(chainGuardVariable)-}" ] && { [ "$\(chainGuardVariable)" = "$chained" ] || [ "$\(chainGuardVariable)" -ef "$chained" ]; } && exit 0

            """
        if readsInput {
            script += """
                # Standard input byte for byte: the x keeps trailing newlines from $(...).
                input=$(cat; printf x)
                input=${input%x}

                """
        }
        let feed = readsInput ? "printf '%s' \"$input\" | " : ""
        script += """
            status=0
            if [ -x "$chained" ]; then
                \(feed)\(chainGuardVariable)=$chained "$chained" "$@"
                status=$?
            fi
            \(feed)git mtime hooks run \(name) "$@" ||
                echo "git-mtime: the \(name) hook could not set mtimes (see above); files keep the times git gave them" >&2
            exit $status

            """
        return script
    }
}
