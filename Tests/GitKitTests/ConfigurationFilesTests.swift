import Foundation
import GitKit
import MtimeCore
import Testing
import TestSupport

/// GIT_CONFIG_SYSTEM, GIT_CONFIG_GLOBAL and GIT_CONFIG_NOSYSTEM choose the files git reads before the
/// repository's own; libgit2 1.5 knows none of them. Every combination below is read through a
/// `Repository` and through `git config --get` under the same environment, and must agree.
@Suite struct ConfigurationFilesTests {
    @Test func everyRepositoryReadSeesTheFilesGitReads() throws {
        let repository = try GitRepository(label: "config-files")
        try repository.git("config", "mtime.stamp", "from-local")
        let files = TemporaryDirectory("config-files-levels")
        func file(_ name: String, _ text: String) throws -> String {
            let path = files.url(name)
            try text.write(toFile: path, atomically: true, encoding: .utf8)
            return path
        }
        let system = try file("system", "[mtime]\n\thookMode = system\n\tcacheDir = /system\n[core]\n\tfilemode = false\n")
        let included = try file("included", "[mtime]\n\tcacheDir = ~/included\n")
        let global = try file("global", "[mtime]\n\thookMode = global\n[include]\n\tpath = included\n")
        let linked = files.url("linked")
        try FileManager.default.createSymbolicLink(atPath: linked, withDestinationPath: global)
        let fifo = files.url("fifo")
        #expect(mkfifo(fifo, 0o600) == 0)
        let systems: [String?] = [nil, system, "", "/dev/null", files.url("missing")]
        let globals: [String?] = [nil, global, linked, "", fifo]
        let noSystems: [String?] = [nil, "1", "false"]
        for systemFile in systems {
            for globalFile in globals {
                for noSystem in noSystems {
                    var variables: [String: String] = [:]
                    variables["GIT_CONFIG_SYSTEM"] = systemFile
                    variables["GIT_CONFIG_GLOBAL"] = globalFile
                    variables["GIT_CONFIG_NOSYSTEM"] = noSystem
                    // git would block on the FIFO; that case is only ours (it reads as no file).
                    let gitVariables = variables.merging(globalFile == fifo ? ["GIT_CONFIG_GLOBAL": ""] : [:]) { $1 }
                    let environment = GitEnvironment(variables)
                    let opened = try Repository(
                        RepositoryLocation.find(start: BytePath(repository.path), environment: environment), environment: environment)
                    func git(_ options: [String]) throws -> ProcessResult {
                        try run(["git", "config"] + options, in: repository.path, environment: gitVariables)
                    }
                    for key in ["mtime.stamp", "mtime.hookMode"] {
                        let answer = try git(["--get", key])
                        #expect(
                            opened.configString(key) == (answer.status == 0 ? String(answer.stdout.dropLast()) : nil), "\(variables) \(key)"
                        )
                    }
                    let filemode = try git(["--type=bool", "--get", "core.filemode"])
                    #expect(
                        try opened.configBool("core.filemode", default: true)
                            == (filemode.status == 0 ? filemode.stdout == "true\n" : true),
                        "\(variables)")
                    let path = try git(["--type=path", "--get", "mtime.cacheDir"])
                    #expect(
                        try opened.configPath("mtime.cacheDir") == (path.status == 0 ? String(path.stdout.dropLast()) : nil), "\(variables)"
                    )
                }
            }
        }
    }
}
