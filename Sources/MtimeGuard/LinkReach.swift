import MtimeCore
import MtimeManifest

/// What the build reads through the symlinks `prepare` bumps. make and cargo `stat` through a link,
/// so bumping the link itself changes nothing they see: a link pointed at another file (or
/// directory) that is unchanged itself changes what they read while every time they look at stays
/// old, and they would keep the outputs made from the old target. What a changed link leads to gets
/// the bump too (docs/stamp.md, "Symlinks").
enum LinkReach {
    /// For each manifest path reached through one of `links` (paths relative to `root`): the link
    /// that reaches it. A link leading to a file reaches that file; one leading to a directory,
    /// every entry below it. Resolved as BuildKit reads a context (`ConfinedPath`: never outside
    /// `root`, an absolute target starting again at it); a link that leads nowhere, or that can't
    /// be resolved, reaches nothing. One pass over the entries whatever the number of links (a
    /// hostile context may hold thousands, all leading to the root).
    static func reached(through links: [BytePath], in manifest: Manifest, root: BytePath) -> [BytePath: BytePath] {
        var reached: [BytePath: BytePath] = [:]
        var directories: [BytePath: BytePath] = [:]
        for link in links {
            guard case .success(let target)? = try? ConfinedPath.resolve(link, under: root).0 else { continue }
            switch target.status.kind {
            case .regular: reached[target.path] = reached[target.path] ?? link
            // The root itself resolves to `.`: every entry lies below it.
            case .directory:
                let directory = target.path == BytePath(".") ? BytePath([]) : target.path
                directories[directory] = directories[directory] ?? link
            default: continue
            }
        }
        guard !directories.isEmpty else { return reached }
        for entry in manifest.entries where reached[entry.path] == nil {
            var directory = entry.path
            repeat {
                directory = directory.parent
                if let link = directories[directory], link != entry.path {
                    reached[entry.path] = link
                    break
                }
            } while !directory.bytes.isEmpty
        }
        return reached
    }
}
