import Foundation
import MtimeCore
import Testing
import TestSupport

@Test func statusReportsTimesDirtyFilesHooksAndStamp() throws {
    let repo = try GitRepository(label: "status")
    try repo.write("a.txt", "a\n")
    try repo.write("b.txt", "b\n")
    try repo.write("c.txt", "c\n")
    try repo.commit()
    let hooks = repo.directory.url(".git/hooks")
    try Data("#!/bin/sh\nexit 0\n".utf8).write(to: URL(fileURLWithPath: hooks + "/post-merge"))
    try runChecked(["chmod", "755", hooks + "/post-merge"])
    try repo.mtime("restore", "--", "a.txt")
    try repo.write("c.txt", "changed\n")

    var snapshot = try contentSnapshot(of: repo.path)
    let before = try repo.mtime("status").stdout
    #expect(try contentSnapshot(of: repo.path) == snapshot)
    let root = try FileSystem.resolve(BytePath(repo.path))
    #expect(
        before == """
            repository: \(root)
            files with their commit time: 1
            files without their commit time: 1 (git mtime restore sets them)
            dirty files (left alone): 1
            deleted files: 0
            hooks (\(root)/.git/hooks): post-checkout not installed, post-merge not installed (another hook is there; install keeps it and chains it), post-rewrite not installed
            hook mode: safe
            build stamp: \(root)/target/.git-mtime-stamp: absent

            """)

    try repo.mtime("hooks", "install")
    try repo.mtime("restore")
    try repo.git("config", "mtime.hookMode", "commit")
    try repo.git("config", "mtime.stamp", "out/stamp")
    try FileManager.default.createDirectory(atPath: repo.directory.url("out"), withIntermediateDirectories: true)
    try Data("not a stamp\n".utf8).write(to: URL(fileURLWithPath: repo.directory.url("out/stamp")))
    snapshot = try contentSnapshot(of: repo.path)
    let after = try repo.mtime("status").stdout
    #expect(try contentSnapshot(of: repo.path) == snapshot)
    let lines = after.split(separator: "\n").map(String.init)
    #expect(lines[1] == "files with their commit time: 2")
    #expect(lines[2] == "files without their commit time: 0")
    #expect(
        lines[5]
            == "hooks (\(root)/.git/hooks): post-checkout installed, post-merge installed (chained: the previous hook runs first), post-rewrite installed"
    )
    #expect(lines[6] == "hook mode: commit")
    #expect(lines[7].hasPrefix("build stamp: \(root)/out/stamp: not trusted: "), "\(lines[7])")
}
