import ArgumentParser
import MtimeCore
import MtimeManifest
import MtimeHooks
import MtimeRestore

struct StatusCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Show how far the working tree's mtimes, the hooks and the build stamp are set up.",
        discussion: """
            Changes nothing. Prints: how many clean tracked files already have their commit time and how \
            many don't, the dirty (modified or staged) and deleted files, whether the hooks are installed \
            (and whether they chain a hook that was there before), the hook mode, and the build stamp's \
            path and whether it is trusted. \(gitEnvironmentHelp)
            """)

    @OptionGroup var start: StartDirectoryOptions

    func run() throws {
        try reportingErrors(as: "git-mtime status") {
            try start.enter()
            let session = try RestoreSession(discoveringFrom: ".")
            let settings = try RepositorySettings(repository: session.repository, workdir: session.workdir)
            let plan = try session.plan(RestoreOptions())
            let clean = plan.files.filter { $0.state == .clean && $0.target != nil }
            let right = clean.count { $0.current?.modificationTime == $0.target }
            print("repository: \(settings.root)")
            print("files with their commit time: \(right)")
            print("files without their commit time: \(clean.count - right)\(clean.count > right ? " (git mtime restore sets them)" : "")")
            print("dirty files (left alone): \(plan.count(.modified) + plan.count(.staged))")
            print("deleted files: \(plan.count(.deleted))")

            let location = try HookLocation.resolve(.located(session.repository.location))
            let installer = HookInstaller(directory: location.directory)
            let states = try HookName.allCases.map { hook in "\(hook.rawValue) \(describe(try installer.state(of: hook)))" }
            print("hooks (\(location.directory)): \(states.joined(separator: ", "))")
            print("hook mode: \(settings.mode.rawValue)")
            let stamp: String
            switch settings.loadStamp() {
            case .absent: stamp = "absent"
            case .trusted(let sealed): stamp = "trusted (sealed at \(sealed.sealTime), \(sealed.entries.count) files)"
            case .untrusted(let reason): stamp = "not trusted: \(reason)"
            }
            print("build stamp: \(settings.stampPath): \(stamp)")
        }
    }

    private func describe(_ state: HookFileState) -> String {
        switch state {
        case .absent: return "not installed"
        case .foreign: return "not installed (another hook is there; install keeps it and chains it)"
        case .installed(let chained, let current):
            return "installed" + (chained ? " (chained: the previous hook runs first)" : "")
                + (current ? "" : " (outdated: run install again)")
        case .linked(let target, let chained):
            return "installed (a symlink to \(target))" + (chained ? " (chained: the previous hook runs first)" : "")
        case .edited:
            return "installed, with edits (install and uninstall leave it alone)"
        }
    }
}
