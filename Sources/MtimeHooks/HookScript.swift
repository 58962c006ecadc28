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

    /// True when `contents` is a script git-mtime wrote (any version).
    public static func isOurs(_ contents: [UInt8]) -> Bool {
        let lines = contents.split(separator: UInt8(ascii: "\n"), maxSplits: 2, omittingEmptySubsequences: false)
        return lines.count > 1 && lines[1].starts(with: Array(marker.utf8))
    }

    /// The script for `hook`. The user's previous hook runs first with the same arguments (and, for
    /// post-rewrite, the same standard input); its exit status is the script's exit status, and the
    /// git-mtime part only ever reports a problem on stderr.
    public static func text(for hook: HookName) -> String {
        let name = hook.rawValue
        let readsInput = hook == .postRewrite
        var script = """
        #!/bin/sh
        \(marker) \(name) (written by `git mtime hooks install`; `git mtime hooks uninstall` removes it)
        # A hook that was here before was moved to \(hook.chainedName): it runs first and its exit
        # status is what git sees. Setting mtimes never fails the git operation.

        """
        script += readsInput ? "input=$(cat)\n" : ""
        script += """
        status=0
        chained="${0%/*}/\(hook.chainedName)"
        if [ -x "$chained" ]; then

        """
        script += readsInput
            ? "    printf '%s\\n' \"$input\" | \"$chained\" \"$@\"\n"
            : "    \"$chained\" \"$@\"\n"
        script += """
            status=$?
        fi

        """
        script += readsInput
            ? "printf '%s\\n' \"$input\" | git mtime hooks run \(name) \"$@\" ||\n"
            : "git mtime hooks run \(name) \"$@\" ||\n"
        script += """
            echo "git-mtime: the \(name) hook could not set mtimes (see above); files keep the times git gave them" >&2
        exit $status

        """
        return script
    }
}
