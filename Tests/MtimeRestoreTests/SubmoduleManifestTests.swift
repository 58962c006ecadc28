import Foundation
import MtimeCore
import MtimeManifest
import Testing
import TestSupport

/// The manifest of a context holding nested submodules: their files are listed (the context holds
/// them; Docker sends them), with the blob ids and the times their own histories give them.
@Suite struct SubmoduleManifestTests {
    func manifest(_ project: SubmoduleProject, _ arguments: String...) throws -> (manifest: Manifest, text: String, stderr: String) {
        let result = try gitMtime(["manifest"] + arguments, in: project.path)
        guard result.status == 0 else { throw TestFailure("manifest failed: \(result.stderr)") }
        return (try Manifest(parsing: Array(result.stdout.utf8)), result.stdout, result.stderr)
    }

    /// Path (relative to the clone) → (repository it belongs to, path inside it), for every tracked file.
    func trackedFiles(_ project: SubmoduleProject) throws -> [String: (repository: String, path: String)] {
        var files: [String: (String, String)] = [:]
        for repository in ["."] + SubmoduleProject.submodules {
            for file in try project.trackedFiles(in: repository) {
                files[repository == "." ? file : "\(repository)/\(file)"] = (repository, file)
            }
        }
        return files
    }

    @Test func listsSubmoduleFilesWithTheTimesOfTheirOwnHistory() throws {
        let project = try SubmoduleProject()
        let before = try mtimeSnapshot(project.path)
        let (manifest, text, _) = try manifest(project)
        #expect(text.hasPrefix("git-mtime-manifest 3\n"))
        #expect(try mtimeSnapshot(project.path) == before, "manifest alone changes nothing")
        let tracked = try trackedFiles(project)
        #expect(Set(manifest.entries.map(\.path.description)) == Set(tracked.keys))
        for entry in manifest.entries {
            let (repository, path) = try #require(tracked[entry.path.description])
            #expect(entry.isInSubmodule == (repository != "."), "\(entry.path)")
            #expect(!entry.isUntracked)
            #expect(entry.modificationTime == (try project.commitTime(path, in: repository)), "\(entry.path)")
        }
        #expect(text.contains("\nsubmodule 100644 "))
        #expect(!text.contains(" vendor/library\n"), "a gitlink is no file")

        // --restore gives the files those times, submodules included.
        let restored = try gitMtime(["manifest", "--restore"], in: project.path)
        #expect(restored.status == 0, "\(restored.stderr)")
        #expect(restored.stdout == text)
        #expect(restored.stderr.contains("in 2 submodule(s)"), "\(restored.stderr)")
        #expect(try project.filesWithoutTheirCommitTime(in: ["."] + SubmoduleProject.submodules) == [])
    }

    @Test func aRepositoryWithoutSubmodulesStillGetsFormat2() throws {
        let repository = try GitRepository.basic()
        let result = try gitMtime(["manifest"], in: repository.path)
        #expect(result.stdout.hasPrefix("git-mtime-manifest 2\n"))
    }

    /// A dirty submodule (here the nested one) is left alone: Docker still sends its files, so they
    /// are all listed as untracked with their current mtimes and bytes; the guard watches them.
    @Test func theFilesOfASubmoduleLeftAloneAreListedAsUntracked() throws {
        let project = try SubmoduleProject()
        try project.clone.write("vendor/library/deps/inner/a.c", "int a = 9;\n")
        try project.clone.write("vendor/library/deps/inner/new.c", "int n;\n")
        let result = try gitMtime(["manifest", "--restore"], in: project.path)
        #expect(result.status == 0)
        #expect(result.stderr.contains("left submodule vendor/library/deps/inner: 1 tracked file(s) modified"), "\(result.stderr)")
        let manifest = try Manifest(parsing: Array(result.stdout.utf8))
        let inner = manifest.entries.filter { $0.path.isWithin(BytePath("vendor/library/deps/inner")) }
        #expect(inner.map(\.path.description) == ["a.c", "new.c", "src/x.c", "src/y.c"].map { "vendor/library/deps/inner/\($0)" })
        for entry in inner {
            #expect(entry.isUntracked)
            #expect(entry.modificationTime == (try modificationTime(project.clone.directory.url(entry.path.description))))
            let id = try runChecked(["git", "hash-object", entry.path.description], in: project.path).stdout
            #expect(entry.objectID.hex == id.trimmingCharacters(in: .whitespacesAndNewlines))
        }
        // The library itself was fit: its files are submodule entries with commit times.
        let library = try #require(manifest.entries.first { $0.path == BytePath("vendor/library/lib.c") })
        #expect(library.isInSubmodule)
        #expect(library.modificationTime == (try project.commitTime("lib.c", in: "vendor/library")))
    }

    /// Not initialized: an empty directory gives nothing; files put there without a repository
    /// (Docker sends them) are untracked entries.
    @Test func anUninitializedSubmoduleContributesWhatIsOnDisk() throws {
        let project = try SubmoduleProject()
        try project.git(in: "vendor/library", "submodule", "deinit", "-q", "deps/inner")
        let empty = try manifest(project).manifest
        #expect(!empty.entries.contains { $0.path.isWithin(BytePath("vendor/library/deps")) })
        try project.clone.write("vendor/library/deps/inner/copied.c", "int copied;\n")
        let copied = try manifest(project).manifest
        let entry = try #require(copied.entries.first { $0.path.isWithin(BytePath("vendor/library/deps")) })
        #expect(entry.path == BytePath("vendor/library/deps/inner/copied.c"))
        #expect(entry.isUntracked)
    }

    @Test func theContextAndDockerignoreApplyToSubmoduleFiles() throws {
        let project = try SubmoduleProject()
        try project.clone.write("vendor/.dockerignore", "library/deps\n**/*.h\n")
        try project.clone.write("vendor/library/untracked.c", "int u;\n")
        let result = try gitMtime(["manifest", "--context", "vendor"], in: project.path)
        let manifest = try Manifest(parsing: Array(result.stdout.utf8))
        #expect(
            manifest.entries.map(\.path.description) == [".dockerignore", "library/.gitmodules", "library/lib.c", "library/untracked.c"])
        #expect(manifest.entries.map(\.isInSubmodule) == [false, true, true, false])
        #expect(manifest.entries.map(\.isUntracked) == [true, false, false, true])
    }

    /// A context inside a submodule describes that repository, as git sees it from there: its own
    /// files are tracked, its nested submodule's files are submodule entries.
    @Test func aContextInsideASubmoduleDescribesThatRepository() throws {
        let project = try SubmoduleProject()
        let result = try gitMtime(["manifest", "--context", "vendor/library"], in: project.path)
        let manifest = try Manifest(parsing: Array(result.stdout.utf8))
        let head = try project.git(in: "vendor/library", "rev-parse", "HEAD").trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(manifest.headCommit?.hex == head)
        #expect(manifest.entries.filter { !$0.isInSubmodule }.map(\.path.description) == [".gitmodules", "include/lib.h", "lib.c"])
        #expect(
            manifest.entries.filter(\.isInSubmodule).map(\.path.description)
                == ["deps/inner/a.c", "deps/inner/src/x.c", "deps/inner/src/y.c"])
    }
}
