import Foundation
import MtimeCore
@testable import MtimeRestore
import Testing
import TestSupport

/// A submodule is whatever the index, the working tree and a `.git` file say, and all three are
/// anyone's. Whatever they say, `restore --recurse-submodules` and `manifest` never touch (or list)
/// anything outside the root: each way out is left alone and reported.
@Suite struct HostileSubmoduleTests {
    /// Every path below `root`, `.git` directories included, with its mtime: a lock, a cache or a
    /// changed time anywhere shows.
    static func everything(_ root: String) throws -> [String: Timestamp] {
        var snapshot: [String: Timestamp] = [:]
        let enumerator = FileManager.default.enumerator(atPath: root)
        while let relative = enumerator?.nextObject() as? String {
            snapshot[relative] = try modificationTime((root as NSString).appendingPathComponent(relative))
        }
        return snapshot
    }

    /// Runs `restore --recurse-submodules -v` and `manifest`; both succeed, name `leftAlone` with
    /// `reason`, and leave `outside` exactly as it was; the manifest lists nothing from there.
    static func expectOutsideUntouched(
        _ root: String, outside: String, leftAlone: String, reason: String,
        sourceLocation: SourceLocation = #_sourceLocation
    ) throws {
        let before = try everything(outside)
        #expect(!before.isEmpty, sourceLocation: sourceLocation)
        let restore = try gitMtime(["restore", "--recurse-submodules", "-v"], in: root)
        #expect(restore.status == 0, "\(restore.stderr)", sourceLocation: sourceLocation)
        #expect(restore.stderr.contains("left submodule \(leftAlone): \(reason)"), "\(restore.stderr)", sourceLocation: sourceLocation)
        // Plain, and as the wrapper and `run` make it.
        for arguments in [["manifest"], ["manifest", "--restore"]] {
            let manifest = try gitMtime(arguments, in: root)
            #expect(manifest.status == 0, "\(manifest.stderr)", sourceLocation: sourceLocation)
            #expect(
                manifest.stderr.contains("left submodule \(leftAlone): \(reason)"), "\(manifest.stderr)", sourceLocation: sourceLocation)
            #expect(!manifest.stdout.contains(" ../"), "\(manifest.stdout)", sourceLocation: sourceLocation)
        }
        #expect(try everything(outside) == before, sourceLocation: sourceLocation)
    }

    /// A gitlink whose path leaves the working tree (git refuses to write one; `git mktree` and a
    /// hand-made index don't), at a commit checked out right there, outside. In HEAD's tree only,
    /// no submodule is there to enter; in the index too, libgit2 refuses the index: one error, exit
    /// 1, nothing touched anywhere.
    @Test(arguments: ["../VICTIM", "sub/../../VICTIM", ".git/../../VICTIM", "sub/.git/../../../VICTIM"], [false, true])
    func aGitlinkPathLeavingTheTreeIsNeverEntered(_ template: String, inIndex: Bool) throws {
        let library = try GitRepository(label: "library")
        try library.write("lib.c", "int lib;\n")
        try library.write("src/x.c", "int x;\n")
        let commit = try library.commit("library")
        // A sibling of the superproject's directory (both in the temp dir).
        let victim = try GitRepository(cloning: library.path, label: "victim")
        let top = try GitRepository(label: "top")
        try top.write("main.c", "int main;\n")
        try top.write("sub/keep.c", "int keep;\n")
        try top.commit("top")
        let gitlink = template.replacingOccurrences(of: "VICTIM", with: (victim.path as NSString).lastPathComponent)
        try top.commitHostileGitlink(at: gitlink, commit: commit, inIndex: inIndex)
        let before = try Self.everything(victim.path)
        for arguments in [["restore", "--recurse-submodules", "-v"], ["manifest"], ["manifest", "--restore"]] {
            let result = try gitMtime(arguments, in: top.path)
            if inIndex {
                #expect(result.status == 1, "\(arguments): \(result.stderr)")
                let index = try FileSystem.resolve(BytePath(top.path)).appending(".git/index")
                #expect(
                    result.stderr.hasSuffix("error: cannot read the index \(index): index file corrupt\n"), "\(arguments): \(result.stderr)"
                )
            } else {
                #expect(result.status == 0, "\(arguments): \(result.stderr)")
                #expect(!result.stdout.contains("VICTIM") && !result.stdout.contains("victim"), "\(arguments): \(result.stdout)")
            }
        }
        #expect(try Self.everything(victim.path) == before)
    }

    /// The same paths, were a gitlink ever to carry one: never entered, nothing below listed.
    @Test func unsafeGitlinkPathsAreRecognized() {
        for path in ["../x", "a/../../x", "a/./b", "/abs", "a//b", ".git/x", "a/.GIT/b", "a/.Git"] {
            #expect(Submodules.unsafePathReason(BytePath(path)) != nil, "\(path)")
        }
        for path in ["a", "vendor/library", "a/.gitmodules", "a/.github/x", "..a/b."] {
            #expect(Submodules.unsafePathReason(BytePath(path)) == nil, "\(path)")
        }
    }

    /// Ways a submodule's `.git` can lead to a repository outside the superproject: restore would
    /// write its lock and caches there.
    enum RepositoryOutside: String, CaseIterable {
        /// `vendor/library/.git` is a file naming a git dir elsewhere.
        case gitFile
        /// `vendor/library/.git` is a symlink to a git dir elsewhere.
        case gitSymlink
        /// `.git/modules/vendor/library` is a symlink to a git dir elsewhere.
        case modulesSymlink
        /// The nested submodule's `.git` file names a git dir elsewhere (its parent is restored).
        case nestedGitFile
    }

    @Test(arguments: RepositoryOutside.allCases)
    func aSubmoduleRepositoryOutsideTheSuperprojectIsLeftAlone(_ way: RepositoryOutside) throws {
        let project = try SubmoduleProject()
        let outside = TemporaryDirectory("outside-repository")
        let (submodule, modules) =
            way == .nestedGitFile
            ? ("vendor/library/deps/inner", ".git/modules/vendor/library/modules/deps/inner")
            : ("vendor/library", ".git/modules/vendor/library")
        let moved = outside.url("repository.git")
        try FileManager.default.moveItem(atPath: project.clone.directory.url(modules), toPath: moved)
        // Its working tree is then the directory holding the `.git` that leads to it.
        try runChecked(["git", "config", "-f", "\(moved)/config", "--unset", "core.worktree"], in: outside.path)
        let dotGit = project.clone.directory.url("\(submodule)/.git")
        try FileManager.default.removeItem(atPath: dotGit)
        switch way {
        case .gitFile, .nestedGitFile: try Data("gitdir: \(moved)\n".utf8).write(to: URL(fileURLWithPath: dotGit))
        case .gitSymlink: try FileManager.default.createSymbolicLink(atPath: dotGit, withDestinationPath: moved)
        case .modulesSymlink:
            try FileManager.default.createSymbolicLink(atPath: project.clone.directory.url(modules), withDestinationPath: moved)
            try Data("gitdir: \(project.clone.directory.url(modules))\n".utf8).write(to: URL(fileURLWithPath: dotGit))
        }
        #expect(try project.git(in: submodule, "rev-parse", "--absolute-git-dir").hasPrefix(moved))
        let submoduleTimes = try mtimeSnapshot(project.clone.directory.url(submodule))
        try Self.expectOutsideUntouched(
            project.path, outside: outside.path, leftAlone: submodule,
            reason: "its repository \(moved) is outside the superproject's working tree and git directory")
        #expect(try mtimeSnapshot(project.clone.directory.url(submodule)) == submoduleTimes)
        if way == .nestedGitFile { #expect(try project.filesWithoutTheirCommitTime(in: ["vendor/library"]) == []) }
    }

    /// Each directory on the way to a submodule, and the submodule's own, replaced by a symlink to a
    /// copy outside the working tree: nothing there is entered, listed or touched.
    @Test(arguments: ["vendor", "vendor/library", "vendor/library/deps", "vendor/library/deps/inner"])
    func aSymlinkAnywhereOnTheWayIsNeverFollowed(_ directory: String) throws {
        let project = try SubmoduleProject()
        let outside = TemporaryDirectory("outside-copy")
        try FileManager.default.moveItem(atPath: project.clone.directory.url(directory), toPath: outside.url("copy"))
        try FileManager.default.createSymbolicLink(atPath: project.clone.directory.url(directory), withDestinationPath: outside.url("copy"))
        let before = try Self.everything(outside.path)
        let restore = try gitMtime(["restore", "--recurse-submodules", "-v"], in: project.path)
        #expect(restore.status == 0, "\(restore.stderr)")
        #expect(restore.stderr.contains("left submodule "), "\(restore.stderr)")
        let manifest = try gitMtime(["manifest"], in: project.path)
        #expect(manifest.status == 0, "\(manifest.stderr)")
        // The symlink itself may be an entry; nothing below it is.
        #expect(!manifest.stdout.contains(" \(directory)/"), "\(manifest.stdout)")
        #expect(try Self.everything(outside.path) == before)
    }
}
