import ArgumentParser
import MtimeCore
import MtimeDoctor

enum OutputFormat: String, ExpressibleByArgument, CaseIterable {
    case text, json
}

/// Arguments that name nothing to check: exit status 64, as for any other invalid argument.
extension Doctor.UsageError: DocumentedExitStatus {
    var exitStatus: Int32 { 64 }
}

struct DoctorCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "doctor",
        abstract: "Find stale-build hazards in Dockerfiles, the build context and the repository, with the fix for each.",
        discussion: """
            Run it first in an existing project. It reads every Dockerfile tracked in the repository \
            (Dockerfile, *.Dockerfile, Dockerfile.*, Containerfile) with Docker's own syntax rules, or \
            the ones given with --dockerfile, and reports: a build that runs after sources were copied \
            into a stage that already built (the dummy main.rs pattern); a build into a cache mount that \
            is not guarded; a guard line that cannot work (stamp outside the cache mount, files missing, \
            wrong root, read-only mounts, not mounted, refused by the classic builder); touch / rm / \
            cargo clean / --no-cache workarounds; a plain `docker build` of a guarded Dockerfile in a \
            script or CI file; build outputs or .git not excluded by .dockerignore; \
            a shallow or treeless clone, hooks missing or not running, mtime.stamp outside the working \
            tree, an untrusted build stamp and the file that made it untrusted.

            Each finding is `FILE:LINE: SEVERITY: cause`, then the fix: the exact line to write \
            (`FILE:LINE: new text`), to add, or the command to run. Severities: hazard (a build can \
            ship stale outputs, or fails because of the setup), warning (works, at a cost), info \
            (a workaround or a missing convenience). Changes nothing. The checks and the build commands \
            it recognises are listed in docs/doctor.md.

            \(gitEnvironmentHelp)

            Exit codes: 0 no hazard (warnings and notes allowed); 1 at least one hazard, or doctor \
            could not run (a message says which); 64 invalid arguments.
            """)

    @OptionGroup var start: StartDirectoryOptions

    @Option(
        name: .customLong("dockerfile"),
        help: ArgumentHelp("A Dockerfile to check (repeatable; default: every Dockerfile tracked in the repository).", valueName: "path"))
    var dockerfiles: [String] = []

    @Option(
        help: ArgumentHelp("The build context whose .dockerignore is checked (default: the top of the working tree).", valueName: "dir"))
    var context: String?

    @Option(
        help: ArgumentHelp(
            "'text' (default) or 'json' (one object: the counts and every finding, for CI annotations).", valueName: "format"))
    var format: OutputFormat = .text

    func run() throws {
        let hasHazard = try reportingErrors(as: "git-mtime doctor") {
            // Entered first, as restore does: git's environment (GIT_DIR, GIT_WORK_TREE) is read from there.
            try start.enter()
            let report = try Doctor(dockerfiles: dockerfiles, context: context).run()
            var out = ""
            switch format {
            case .json:
                out = report.json.serialized() + "\n"
            case .text:
                for finding in report.findings { out += finding.text + "\n" }
                out += report.summary + "\n"
            }
            try writeStandardOutput(Array(out.utf8))
            return report.hasHazard
        }
        if hasHazard { throw ExitCode(1) }
    }
}
