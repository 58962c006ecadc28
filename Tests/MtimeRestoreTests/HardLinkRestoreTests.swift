import Foundation
import MtimeCore
import Testing
import TestSupport

/// After a sealed build (a trusted stamp at `mtime.stamp`), restore keeps a file whose bytes the
/// build did not consume newer than it. Names of one file (hard links) share one mtime: restore gave a
/// clean unchanged name its commit time, and so dated back a changed name of the same file (a dirty
/// tracked file, a committed one it kept newer, or an untracked file the plan doesn't hold): a plain
/// make after it kept the stale object. Now a file gets the newest time any of its names in the plan
/// needs, and a clean file with a name outside the plan is not dated back past the build. Generated
/// as in `namesOfOneFileGetTheNewestTimeAnyOfThemNeeds` (the link made now, as an edit is, so a
/// plain build after restore is covered), for `restore` and `manifest --restore`; and `git mtime
/// explain` names the file's other names and says the time restore then sets (it said the plain
/// commit time: its plan held only the path asked about).
private let shapes = HardLinkShape.generated(triples: 8, seed: 0x4841_524d)

@Test(arguments: shapes)
private func restoreNeverDatesBackAChangedNameOfAFile(_ shape: HardLinkShape) throws {
    for command in [["restore"], ["manifest", "--restore", "-o", "/dev/null"]] {
        let repo = try shape.makeProject { repo in
            try repo.git("config", "mtime.stamp", "build/.git-mtime-stamp")
            let first = try run(
                [builtProduct("git-mtime"), "run", "--", "make"], in: repo.path, environment: hookEnvironment)
            #expect(first.status == 0, "\(first.stderr)")
        }
        usleep(20_000)  // an edit lands after the build's last output
        try shape.link(repo, at: nil)
        // `explain` plans each name with its file's other names: the time it says restore gives is the one restore sets.
        let explained = try run(
            [builtProduct("git-mtime"), "explain", "--format", "json"] + shape.names, in: repo.path, environment: hookEnvironment)
        let restored = try run([builtProduct("git-mtime")] + command, in: repo.path, environment: hookEnvironment)
        let label = "\(shape), \(command.joined(separator: " "))"
        #expect(restored.status == 0, "\(label): \(restored.stderr)")
        #expect(explained.status == 0, "\(label): \(explained.stderr)")
        let answers = try JSONSerialization.jsonObject(with: Data(explained.stdout.utf8)) as? [[String: Any]] ?? []
        #expect(answers.count == shape.names.count, "\(label): \(explained.stdout)")
        for (name, answer) in zip(shape.names, answers) {
            #expect(Set(answer["sharesTimeWith"] as? [String] ?? []) == Set(shape.names.filter { $0 != name }), "\(label): \(answer)")
            guard command == ["restore"], let said = answer["restoreTime"] as? String else { continue }
            let now = try FileSystem.status(BytePath(repo.directory.url(name))).modificationTime
            #expect(said == now.description, "\(label): explain said restore gives \(name) \(said), restore gave \(now)")
        }
        let behind = try shape.changedNamesNotNewer(in: repo.path)
        #expect(behind.isEmpty, "\(label): changed names dated back: \(behind)")
        try runChecked(["make"], in: repo.path)
        let built = try String(contentsOfFile: repo.directory.url("build/out"), encoding: .utf8)
        #expect(built == shape.expectedOutput(), "\(label): stale plain build: \(built.debugDescription)")
    }
}
