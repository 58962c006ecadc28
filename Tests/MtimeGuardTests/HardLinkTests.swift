import Foundation
import MtimeCore
import Testing
import TestSupport

/// Names of one file (hard links) share one mtime, so whichever name the guard set last won for all:
/// a changed name before an unchanged one in path order got the unchanged name's commit time, older
/// than the outputs, and `prepare` then refused the build (exit 74, "no later time can be stored") on
/// every run; without that read-back check, make would have kept the stale object. Now a file gets the
/// newest time any of its names needs (`HardLinks.sharedTimes`): a bump wins. Generated: every pair of
/// roles (tracked or untracked, changed or unchanged since the sealed build), committed or dirty, and
/// random triples; the file dated in 2020 (as `cp -a` or an archive brings it) or now; built with
/// `git mtime run` and with `git-mtime-guard run` over a `cp -a` copy of the context (which keeps the
/// links), as the Dockerfile line does.
private let shapes = HardLinkShape.generated(triples: 8, seed: 0x4841_524c)

@Test(arguments: shapes)
private func namesOfOneFileGetTheNewestTimeAnyOfThemNeeds(_ shape: HardLinkShape) throws {
    let stamp = ["--stamp", "build/.git-mtime-stamp"]
    func mtimeRun(_ repo: GitRepository) throws -> ProcessResult {
        try run([builtProduct("git-mtime"), "run"] + stamp + ["--", "make"], in: repo.path, environment: hookEnvironment)
    }
    for time in [Timestamp(seconds: 1_577_836_800, nanoseconds: 0), nil] {
        let repo = try shape.makeProject { repo in
            let first = try mtimeRun(repo)
            #expect(first.status == 0, "\(first.stderr)")
        }
        usleep(20_000)  // an edit lands after the build's last output
        try shape.link(repo, at: time)
        let label = "\(shape), dated \(time.map(\.description) ?? "now")"
        // `explain` tells the guard's decision for an unchanged name of a changed file (dated back: an
        // untracked changed name dated now keeps its time, and so does the file).
        if shape.hasChange, time != nil, let unchanged = zip(shape.names, shape.roles).first(where: { $0.1 == .trackedUnchanged })?.0 {
            let explained = try run(
                [builtProduct("git-mtime"), "explain"] + stamp + [unchanged], in: repo.path, environment: hookEnvironment)
            #expect(explained.stdout.contains("bumps it: one file with src/n"), "\(label): \(explained.stdout)")
        }
        let before = try contentSnapshot(of: repo.path).filter { !$0.key.hasPrefix("build") }
        let second = try mtimeRun(repo)
        #expect(second.status == 0, "\(label): \(second.stderr)")
        let built = try String(contentsOfFile: repo.directory.url("build/out"), encoding: .utf8)
        #expect(built == shape.expectedOutput(), "\(label): stale build: \(built.debugDescription)")
        // One file, one time, and no change left unbuilt: the next build compiles nothing.
        let third = try mtimeRun(repo)
        #expect(third.status == 0 && !third.stdout.contains("cp src/"), "\(label): rebuilt again: \(third.stdout)")
        #expect(try contentSnapshot(of: repo.path).filter { !$0.key.hasPrefix("build") } == before)
    }

    // The Dockerfile line's route: a manifest, the context copied with its links and times, the guard.
    let copy = TemporaryDirectory("copy")
    func guardRun(_ repo: GitRepository) throws -> ProcessResult {
        let manifest = copy.url("../\(URL(fileURLWithPath: copy.path).lastPathComponent).manifest")
        try runChecked([builtProduct("git-mtime"), "manifest", "--context", ".", "-o", manifest], in: repo.path)
        try? FileManager.default.removeItem(atPath: copy.url("src"))
        try runChecked(["cp", "-a", repo.directory.url("src"), repo.directory.url("Makefile"), repo.directory.url(".gitignore"), copy.path])
        return try run(
            [builtProduct("git-mtime-guard"), "run", "--manifest", manifest, "--root", copy.path] + stamp + ["--", "make"], in: copy.path)
    }
    let repo = try shape.makeProject { repo in
        let first = try guardRun(repo)
        #expect(first.status == 0, "\(first.stderr)")
    }
    try shape.link(repo, at: Timestamp(seconds: 1_577_836_800, nanoseconds: 0))
    let second = try guardRun(repo)
    #expect(second.status == 0, "\(shape), guard over a copy: \(second.stderr)")
    let built = try String(contentsOfFile: copy.url("build/out"), encoding: .utf8)
    #expect(built == shape.expectedOutput(), "\(shape), guard over a copy: stale build: \(built.debugDescription)")
    // A changed name bumps every name of its file, and nothing else.
    let bumped = shape.hasChange ? shape.roles.count : 0
    #expect(
        second.stderr.contains("\(bumped) of \(shape.roles.count + 3) files changed since the last sealed build; stamp trusted"),
        "\(shape): \(second.stderr)")
}
