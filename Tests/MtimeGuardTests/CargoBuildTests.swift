import Foundation
import MtimeCore
import MtimeManifest
import Testing
import TestSupport

/// Sources, not build outputs: what the guard must never change.
private func sourceSnapshot(_ project: GuardProject) throws -> [String: Data] {
    try contentSnapshot(of: project.root).filter { !$0.key.hasPrefix("target") }
}

@Test func guardRunRebuildsWhatPlainCargoLeavesStale() throws {
    let project = GuardProject()
    try project.write("Cargo.toml", "[package]\nname = \"app\"\nversion = \"0.1.0\"\nedition = \"2021\"\n")
    try project.write("src/main.rs", "fn main() { println!(\"Hello, world!\"); }\n")
    try #require(project.tool(["cargo", "build", "--offline"]).succeeded)

    // The real source arrives with its old commit mtime, copied with times preserved as Docker's COPY does.
    let incoming = TemporaryDirectory("guard-incoming")
    let real = incoming.url("main.rs")
    try Data("fn main() { println!(\"the real program\"); }\n".utf8).write(to: URL(fileURLWithPath: real))
    try FileSystem.setModificationTime(BytePath(real), to: project.commitTime)
    try runChecked(["cp", "-p", real, project.path("src/main.rs")])

    let plain = try project.tool(["cargo", "build", "--offline"])
    #expect(plain.succeeded)
    #expect(compiledCrates(plain.stderr) == [])
    #expect(try project.tool([project.path("target/debug/app")]).stdout == "Hello, world!\n", "the seed's bug: cargo kept the dummy")

    try project.writeManifest(["Cargo.toml", "src/main.rs"])
    let before = try sourceSnapshot(project)
    let guarded = try project.guardCommand("run", ["--", "cargo", "build", "--offline"])
    #expect(guarded.status == 0, "\(guarded.stderr)")
    #expect(compiledCrates(guarded.stderr) == ["app"])
    #expect(guarded.stderr.contains("no build stamp at \(project.path("target/.git-mtime-stamp"))"))
    #expect(try project.tool([project.path("target/debug/app")]).stdout == "the real program\n")
    #expect(try sourceSnapshot(project) == before)
    guard
        case .trusted(let stamp) = BuildStamp.load(
            at: BytePath(project.path("target/.git-mtime-stamp")), expectedRoot: try FileSystem.resolve(BytePath(project.root)))
    else {
        Issue.record("run did not leave a trusted stamp"); return
    }
    #expect(stamp.entries.map(\.path) == [BytePath("Cargo.toml"), BytePath("src/main.rs")])
}

/// app → mid → base: a change recompiles exactly its crate and the crates that depend on it.
@Test func stampLimitsCargoRebuildsToChangedCratesAndDependents() throws {
    let project = GuardProject()
    let files = [
        "Cargo.toml", "app/Cargo.toml", "app/src/main.rs", "mid/Cargo.toml", "mid/src/lib.rs",
        "base/Cargo.toml", "base/src/lib.rs",
    ]
    try project.write("Cargo.toml", "[workspace]\nmembers = [\"app\", \"mid\", \"base\"]\nresolver = \"2\"\n")
    func crate(_ name: String, dependsOn dependency: String?) -> String {
        "[package]\nname = \"\(name)\"\nversion = \"0.1.0\"\nedition = \"2021\"\n[dependencies]\n"
            + (dependency.map { "\($0) = { path = \"../\($0)\" }\n" } ?? "")
    }
    try project.write("app/Cargo.toml", crate("app", dependsOn: "mid"))
    try project.write("mid/Cargo.toml", crate("mid", dependsOn: "base"))
    try project.write("base/Cargo.toml", crate("base", dependsOn: nil))
    try project.write("app/src/main.rs", "fn main() { println!(\"{}\", mid::mid()); }\n")
    try project.write("mid/src/lib.rs", "pub fn mid() -> String { format!(\"mid-1+{}\", base::base()) }\n")
    try project.write("base/src/lib.rs", "pub fn base() -> &'static str { \"base-1\" }\n")
    let build = ["run", "--", "cargo", "build", "--offline"]
    func output() throws -> String { try project.tool([project.path("target/debug/app")]).stdout }

    try project.writeManifest(files)
    let first = try project.guardCommand(build[0], Array(build.dropFirst()))
    #expect(first.status == 0, "\(first.stderr)")
    #expect(compiledCrates(first.stderr) == ["app", "base", "mid"])
    #expect(try output() == "mid-1+base-1\n")

    // A changed file keeps its (old) commit time in the manifest: only the stamp tells the guard it changed.
    try project.write("mid/src/lib.rs", "pub fn mid() -> String { format!(\"mid-2+{}\", base::base()) }\n")
    try project.writeManifest(files)
    var before = try sourceSnapshot(project)
    let changed = try project.guardCommand(build[0], Array(build.dropFirst()))
    #expect(changed.status == 0, "\(changed.stderr)")
    #expect(compiledCrates(changed.stderr) == ["app", "mid"])
    #expect(changed.stderr.contains("1 of 7 files changed since the last sealed build"))
    #expect(try output() == "mid-2+base-1\n")
    #expect(try sourceSnapshot(project) == before)
    // Unchanged files carry their deterministic commit time.
    let baseID = try BlobHasher.hash(fileAt: BytePath(project.path("base/src/lib.rs")))
    #expect(try modificationTime(project.path("base/src/lib.rs")) == Timestamp(commitSeconds: project.commitTime.seconds, objectID: baseID))

    let unchanged = try project.guardCommand(build[0], Array(build.dropFirst()))
    #expect(unchanged.status == 0, "\(unchanged.stderr)")
    #expect(compiledCrates(unchanged.stderr) == [])
    #expect(unchanged.stderr.contains("0 of 7 files changed"))

    // An unsealed build in between: the stamp no longer describes target/, so everything is rebuilt.
    try project.write("mid/src/lib.rs", "pub fn mid() -> String { format!(\"mid-3+{}\", base::base()) }\n")
    #expect(compiledCrates(try project.tool(["cargo", "build", "--offline"]).stderr) == ["app", "mid"])
    try project.writeManifest(files)
    before = try sourceSnapshot(project)
    let afterUnsealed = try project.guardCommand(build[0], Array(build.dropFirst()))
    #expect(afterUnsealed.status == 0, "\(afterUnsealed.stderr)")
    #expect(afterUnsealed.stderr.contains("warning: ignoring the build stamp: "))
    #expect(afterUnsealed.stderr.contains("changed after the stamp was sealed (a build ran without sealing)"))
    #expect(compiledCrates(afterUnsealed.stderr) == ["app", "base", "mid"])
    #expect(try output() == "mid-3+base-1\n")
    #expect(try sourceSnapshot(project) == before)

    let resealed = try project.guardCommand(build[0], Array(build.dropFirst()))
    #expect(compiledCrates(resealed.stderr) == [])
    #expect(!resealed.stderr.contains("warning"))
}
