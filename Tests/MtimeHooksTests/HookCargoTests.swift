import Foundation
import MtimeCore
import Testing
import TestSupport

/// A build sealed by `git mtime run -- cargo build`: switching to another branch and back without
/// building recompiles nothing; building on the other branch is never stale.
@Test func sealedCargoBuildSurvivesASwitchAndBack() throws {
    let repo = try GitRepository(label: "cargo")
    try repo.write("Cargo.toml", "[package]\nname = \"app\"\nversion = \"0.1.0\"\nedition = \"2021\"\n")
    try repo.write(".gitignore", "target/\n")
    try repo.write("src/main.rs", "mod words;\nfn main() { println!(\"{}\", words::WORD); }\n")
    try repo.write("src/words.rs", "pub const WORD: &str = \"main\";\n")
    try #require(repo.tool("cargo", "generate-lockfile", "--offline").succeeded)
    try repo.commit("app")
    try repo.git("branch", "feature")
    try repo.write("README", "newer commit on main\n")
    try repo.commit("readme", advancing: 5000)
    try repo.git("checkout", "-q", "feature")
    try repo.write("src/words.rs", "pub const WORD: &str = \"feature\";\n")
    try repo.commit("feature", advancing: 10)
    try repo.git("checkout", "-q", "main")
    try repo.mtime("hooks", "install")

    let sources = try contentSnapshot(of: repo.path).filter { !$0.key.hasPrefix("target") }
    let sealed = try repo.mtime("run", "--", "cargo", "build", "--offline")
    #expect(compiledCrates(sealed.stderr) == ["app"])
    #expect(try contentSnapshot(of: repo.path).filter { !$0.key.hasPrefix("target") } == sources)
    #expect(try repo.tool(repo.directory.url("target/debug/app")).stdout == "main\n")

    try repo.hookGit("checkout", "-q", "feature")
    try repo.hookGit("checkout", "-q", "main")
    try repo.expectWorkingTreeMatchesHead()
    let again = try repo.tool("cargo", "build", "--offline")
    #expect(again.succeeded)
    #expect(compiledCrates(again.stderr) == [], "switching away and back recompiled: \(again.stderr)")
    #expect(try repo.tool(repo.directory.url("target/debug/app")).stdout == "main\n")

    try repo.hookGit("checkout", "-q", "feature")
    let feature = try repo.tool("cargo", "build", "--offline")
    #expect(compiledCrates(feature.stderr) == ["app"])
    #expect(try repo.tool(repo.directory.url("target/debug/app")).stdout == "feature\n")
}
