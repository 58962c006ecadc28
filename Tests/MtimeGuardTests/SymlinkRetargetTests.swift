import Foundation
import MtimeCore
import Testing
import TestSupport

/// A tracked symlink the build reads through, pointed at another file that is itself unchanged:
/// the link's own content (its target) changed, so the guard bumped the link, but make and cargo
/// `stat` through it and see the new target's old commit time, older than the outputs: before the
/// fix a guarded build kept the output made from the old target (`make: 'build/out' is up to date`).
/// Now what a changed link leads to (a file, or every file below a directory) is bumped with it.
/// Shapes: a file link retargeted; a chain whose middle link is retargeted; a directory link
/// retargeted (`include -> inc1` to `inc2`, or to `.`, the root); a link to an untracked file retargeted.
private enum LinkShape: String, CaseIterable, Sendable { case fileLink, chain, directoryLink, linkToTheRoot, untrackedTarget }

@Test(arguments: LinkShape.allCases)
private func aRetargetedSymlinkRebuildsWhatIsReadThroughIt(_ shape: LinkShape) throws {
    let repo = try GitRepository()
    try repo.write("configs/linux.h", "linux\n")
    try repo.write("configs/mac.h", "mac\n")
    try repo.write("inc1/a.h", "inc1\n")
    try repo.write("inc2/a.h", "inc2\n")
    try repo.write("a.h", "root\n")
    try repo.write(".gitignore", "build/\nlocal/\n")
    let dependency = shape == .directoryLink || shape == .linkToTheRoot ? "include/a.h" : "config.h"
    try repo.write("Makefile", "build/out: \(dependency)\n\tmkdir -p build && cat \(dependency) > build/out\n")
    func link(_ name: String, _ target: String) throws {
        let path = repo.directory.url(name)
        try? FileManager.default.removeItem(atPath: path)
        try FileManager.default.createSymbolicLink(atPath: path, withDestinationPath: target)
    }
    switch shape {
    case .fileLink: try link("config.h", "configs/linux.h")
    case .chain:
        try link("current.h", "configs/linux.h")
        try link("config.h", "current.h")
    case .directoryLink, .linkToTheRoot: try link("include", "inc1")
    case .untrackedTarget:
        // Not ignored: the manifest lists the untracked targets (`local/` is ignored only for git add -A).
        try repo.write(".gitignore", "build/\n")
        try repo.write("local/linux.h", "local linux\n")
        try repo.write("local/mac.h", "local mac\n")
        try link("config.h", "local/linux.h")
    }
    if shape == .untrackedTarget {
        try repo.git("add", ".gitignore", "Makefile", "configs", "inc1", "inc2", "a.h", "config.h")
        try repo.git("commit", "-q", "-m", "first")
    } else {
        try repo.commit("first")
    }
    let stamp = ["--stamp", "build/.git-mtime-stamp"]
    let first = try run([builtProduct("git-mtime"), "run"] + stamp + ["--", "make"], in: repo.path, environment: hookEnvironment)
    #expect(first.status == 0, "\(first.stderr)")

    switch shape {
    case .fileLink: try link("config.h", "configs/mac.h")
    case .chain: try link("current.h", "configs/mac.h")
    case .directoryLink: try link("include", "inc2")
    case .linkToTheRoot: try link("include", ".")
    case .untrackedTarget: try link("config.h", "local/mac.h")
    }
    try repo.commit("retarget")
    // `explain` gives the guard's decision for what the changed link leads to.
    let reachedFile: String =
        switch shape {
        case .fileLink, .chain: "configs/mac.h"
        case .directoryLink: "inc2/a.h"
        case .linkToTheRoot: "a.h"
        case .untrackedTarget: "local/mac.h"
        }
    let changedLink = shape == .chain ? "current.h" : shape == .fileLink || shape == .untrackedTarget ? "config.h" : "include"
    let explained = try run([builtProduct("git-mtime"), "explain"] + stamp + [reachedFile], in: repo.path, environment: hookEnvironment)
    #expect(explained.stdout.contains("bumps it: read through \(changedLink), a symlink that changed"), "\(explained.stdout)")
    let expected = try String(contentsOfFile: repo.directory.url(dependency), encoding: .utf8)
    let before = try contentSnapshot(of: repo.path).filter { !$0.key.hasPrefix("build") }
    let second = try run([builtProduct("git-mtime"), "run"] + stamp + ["--", "make"], in: repo.path, environment: hookEnvironment)
    #expect(second.status == 0, "\(second.stderr)")
    let built = try String(contentsOfFile: repo.directory.url("build/out"), encoding: .utf8)
    #expect(built == expected, "\(shape): stale build: \(built.debugDescription), sources say \(expected.debugDescription)")
    #expect(try contentSnapshot(of: repo.path).filter { !$0.key.hasPrefix("build") } == before)

    // Nothing changed since: nothing reached through a link is bumped again.
    let third = try run([builtProduct("git-mtime"), "run"] + stamp + ["--", "make"], in: repo.path, environment: hookEnvironment)
    #expect(third.status == 0, "\(third.stderr)")
    #expect(third.stderr.contains("0 of "), "\(third.stderr)")
    #expect(third.stdout.contains("is up to date"), "\(third.stdout)")
}
