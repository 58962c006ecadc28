import Foundation
import MtimeCore
import Testing
import TestSupport

/// Commit dates git stores and shows (as 1970) but that don't fit a time_t, or fit it but not the
/// documented time range (issue 10, defect 4: 2^63 crashed restore, manifest and the hooks with SIGILL).
private let hostileDates = ["9223372036854775808", "9223372036854775807", "99999999999999999999", "18446744073709551616"]

/// A repository whose HEAD is a commit dated `date` (written with `hash-object --literally`, as a
/// hostile clone would carry it) on top of an ordinary one.
private func repository(dated date: String) throws -> GitRepository {
    let repo = try GitRepository(label: "hostile-date")
    try repo.write("f", "one\n")
    try repo.write("g", "kept\n")
    try repo.commit("ordinary")
    try repo.write("f", "two\n")
    try repo.git("add", "-A")
    let tree = try repo.git("write-tree").trimmingCharacters(in: .whitespacesAndNewlines)
    let parent = try repo.git("rev-parse", "HEAD").trimmingCharacters(in: .whitespacesAndNewlines)
    let object = "tree \(tree)\nparent \(parent)\nauthor a <a@b> \(date) +0000\ncommitter a <a@b> \(date) +0000\n\nhostile\n"
    let id = try runChecked(["git", "hash-object", "-t", "commit", "-w", "--literally", "--stdin"], in: repo.path, input: object)
        .stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    try repo.git("update-ref", "HEAD", id)
    return repo
}

@Test(arguments: hostileDates)
func hostileCommitDatesNeverCrashRestoreManifestOrHooks(_ date: String) throws {
    let repo = try repository(dated: date)
    let restored = try repo.tool("git", "mtime", "restore")
    #expect(restored.status == 0, "restore: \(restored.status) \(restored.stderr)")
    // Git shows the date as 1970 (the epoch): so does restore.
    #expect(
        try repo.time("f")
            == Timestamp(
                commitSeconds: 0,
                objectID: try #require(ObjectID(hex: try repo.git("rev-parse", "HEAD:f").trimmingCharacters(in: .whitespacesAndNewlines)))))
    let manifest = try repo.tool("git", "mtime", "manifest")
    #expect(manifest.status == 0, "manifest: \(manifest.stderr)")
    #expect(manifest.stdout.contains(" 0.") && manifest.stdout.contains(" f\n"), "\(manifest.stdout)")
    #expect(try repo.tool("git", "mtime", "status").status == 0)

    try repo.mtime("hooks", "install")
    for mode in ["commit", "safe"] {
        try repo.git("config", "mtime.hookMode", mode)
        let away = try repo.hookGitStatus("checkout", "-q", "HEAD~1")
        let back = try repo.hookGitStatus("checkout", "-q", "-")
        #expect(away.status == 0 && back.status == 0, "\(mode): \(away.stderr) \(back.stderr)")
        #expect(!(away.stderr + back.stderr).contains("error"), "\(mode): \(away.stderr) \(back.stderr)")
    }
    try repo.expectWorkingTreeMatchesHead()
}
