import MtimeDockerfile

/// The stale-build hazards of one Dockerfile (docs/doctor.md): a build after sources were copied
/// into a stage that already built (the seed's bug), a build into a cache mount, and a guard line
/// that cannot do its job (stamp outside the cache, files missing, wrong root, read-only mounts,
/// not mounted, refused by the classic builder); plus the usual workarounds, as notes.
public struct DockerfileRules {
    public let stages: BuildStages
    /// Whether `git mtime docker build` would use the classic builder here (asked only when it matters).
    public let usesClassicBuilder: () -> Bool

    public static let guardLine = "RUN --mount=type=bind,from=git-mtime,target=/git-mtime /git-mtime/guard run -- cargo build --release"

    public init(stages: BuildStages, usesClassicBuilder: @escaping () -> Bool) {
        self.stages = stages
        self.usesClassicBuilder = usesClassicBuilder
    }

    private var dockerfile: Dockerfile { stages.dockerfile }
    private var file: String { dockerfile.name }

    /// What a stage has seen so far.
    struct StageState {
        /// The last RUN that built with an mtime-based tool.
        var lastBuild: (line: Int, text: String)?
        /// The first copy from the build context after that build.
        var copyAfterBuild: (line: Int, text: String)?
        var hasContext = false
        /// Where a copy of the whole context (`COPY . DIR`) put it.
        var contextRoot: String?
    }

    public func findings() -> [Finding] {
        var findings: [Finding] = []
        var finalStates: [StageState] = []
        for stage in stages.stages {
            var state = stage.parent.map { finalStates[$0] } ?? StageState()
            for step in stage.steps {
                switch step.instruction.keyword {
                case "COPY", "ADD":
                    copy(step, &state, &findings)
                case "RUN":
                    run(step, &state, &findings)
                default:
                    break
                }
            }
            finalStates.append(state)
        }
        return findings
    }

    /// The context-relative directories the builds write into (for the `.dockerignore` check): each
    /// mtime-based build's output directory inside a whole-context copy.
    public func outputDirectories() -> [String] {
        var directories: [String] = []
        var finalStates: [StageState] = []
        for stage in stages.stages {
            var state = stage.parent.map { finalStates[$0] } ?? StageState()
            var ignored: [Finding] = []
            for step in stage.steps {
                if step.instruction.keyword == "COPY" || step.instruction.keyword == "ADD" { copy(step, &state, &ignored) }
                guard step.instruction.keyword == "RUN", let root = state.contextRoot else { continue }
                let analysis = RunAnalysis(step, dockerfile: dockerfile)
                for build in analysis.builds where build.tool.basis == .modificationTimes {
                    guard let output = outputDirectory(of: build, step: step), UnixPath.isWithin(output, root), output != root else {
                        continue
                    }
                    let relative = String(output.dropFirst(root == "/" ? 1 : root.count + 1))
                    if !directories.contains(relative) { directories.append(relative) }
                }
            }
            finalStates.append(state)
        }
        return directories
    }

    /// Whether some RUN mounts the guard (`from=git-mtime`): only `git mtime docker build` can build it.
    public func mountsTheGuard() -> Bool {
        stages.stages.contains { stage in
            stage.steps.contains { $0.instruction.keyword == "RUN" && RunAnalysis($0, dockerfile: dockerfile).guardMount != nil }
        }
    }

    // MARK: - COPY and ADD

    private func copy(_ step: Step, _ state: inout StageState, _ findings: inout [Finding]) {
        let instruction = step.instruction
        guard instruction.flagValues("from").isEmpty else { return }
        let heredocNames = Set(instruction.heredocs.map { "<<" + $0.name })
        var words: [String] = []
        for word in instruction.words {
            guard let expanded = try? step.expand(word, escape: dockerfile.escape) else { return }
            words.append(expanded)
        }
        guard words.count >= 2 else { return }
        let sources = words.dropLast().filter { source in
            !source.hasPrefix("<<") && !heredocNames.contains(source) && !source.contains("://") && !source.hasPrefix("git@")
        }
        guard !sources.isEmpty else { return }
        state.hasContext = true
        if sources.contains(where: { UnixPath.clean("/" + $0) == "/" }) {
            state.contextRoot = UnixPath.resolve(words.last!, against: step.workdir)
        }
        if state.lastBuild != nil && state.copyAfterBuild == nil {
            state.copyAfterBuild = (instruction.line, "\(instruction.keyword) \(instruction.text)")
        }
    }

    // MARK: - RUN

    private func run(_ step: Step, _ state: inout StageState, _ findings: inout [Finding]) {
        let analysis = RunAnalysis(step, dockerfile: dockerfile)
        let instruction = step.instruction
        let line = instruction.line
        for (flag, message) in analysis.mountErrors {
            findings.append(
                Finding(
                    file: file, line: line, severity: .hazard, rule: .dockerfileSyntax,
                    cause: "`--\(flag.name)=\(flag.value ?? "")` cannot be read: \(message).",
                    fix: Fix("Write the mount as `--mount=type=cache|bind|…,target=PATH,…` (BuildKit's syntax).")))
        }
        let mtimeBuilds = analysis.builds.filter { $0.tool.basis == .modificationTimes }
        let outputCaches = analysis.mounts.filter { mount in
            mount.kind == .cache && mtimeBuilds.contains { isOutputCache(mount, for: $0, step: step) }
        }
        let seesContext = state.hasContext || !analysis.contextBinds.isEmpty

        if let build = mtimeBuilds.first(where: { !$0.guarded }) {
            if let previous = state.lastBuild, let copy = state.copyAfterBuild {
                findings.append(
                    Finding(
                        file: file, line: line, severity: .hazard, rule: .staleAfterCopy,
                        cause:
                            "`\(build.commandLine)` runs after `\(copy.text)` (line \(copy.line)) copied sources with their own, older mtimes into a stage that already built on line \(previous.line): \(build.tool.name) sees nothing newer than its outputs and can keep the earlier build.",
                        fix: guardFix(for: build, analysis, state, outputCaches: outputCaches)))
            } else if let cache = outputCaches.first, seesContext {
                findings.append(
                    Finding(
                        file: file, line: line, severity: .hazard, rule: .unguardedCacheMount,
                        cause:
                            "`\(build.commandLine)` keeps its outputs in the cache mount \(cache.target ?? "") across builds, and sources that arrive with older mtimes than those outputs (restored commit times, another checkout) look unchanged to \(build.tool.name).",
                        fix: guardFix(for: build, analysis, state, outputCaches: outputCaches)))
            } else if analysis.guardMount != nil && analysis.guards.isEmpty {
                findings.append(
                    Finding(
                        file: file, line: line, severity: .info, rule: .guardMountedNotRun,
                        cause: "This RUN mounts the guard but never runs it, so `\(build.commandLine)` runs unguarded.",
                        fix: guardFix(for: build, analysis, state, outputCaches: outputCaches)))
            }
        }
        for call in analysis.guards {
            checkGuard(call, analysis, state, outputCaches: outputCaches, &findings)
        }
        if analysis.guardMount != nil && analysis.mounts.count > 1 && !analysis.guards.isEmpty && usesClassicBuilder() {
            let others = analysis.mounts.filter { $0.from != RunAnalysis.guardSource }.map { "--\($0.flag.name)=\($0.flag.value ?? "")" }
            findings.append(
                Finding(
                    file: file, line: line, severity: .hazard, rule: .classicBuilderMounts,
                    cause:
                        "`git mtime docker build` would use the classic builder here, which has no `RUN --mount`: the wrapper can replace only the guard's mount and refuses this RUN (it also mounts \(others.joined(separator: " "))).",
                    fix: Fix("Build with BuildKit.", lines: [FixLine(.run, file: "", text: "DOCKER_BUILDKIT=1 git mtime docker build …")])))
        }
        workarounds(analysis, state, mtimeBuilds: mtimeBuilds, &findings)
        if let build = mtimeBuilds.last {
            state.lastBuild = (line, build.commandLine)
            state.copyAfterBuild = nil
        }
    }

    /// What a guard call needs to work: its stamp beside the outputs it describes, every manifest
    /// file present, the right root, writable sources, and the mount that brings it.
    private func checkGuard(
        _ call: GuardUse, _ analysis: RunAnalysis, _ state: StageState, outputCaches: [RunMount],
        _ findings: inout [Finding]
    ) {
        let step = analysis.step
        let line = step.instruction.line
        let invoked = call.words[0]
        let edits = EditSet(analysis)
        if call.words[0] != "git-mtime-guard" && analysis.guardMount == nil {
            var fix = edits
            fix.insertMount()
            findings.append(
                Finding(
                    file: file, line: line, severity: .hazard, rule: .guardNotMounted,
                    cause: "`\(invoked)` is run but nothing mounts it: the RUN fails with \"not found\".",
                    fix: Fix("Mount the guard from `git mtime docker build`:", lines: fix.lines())))
        }
        guard ["run", "prepare", "check", "seal"].contains(call.subcommand) else { return }
        let cwd = call.workingDirectory
        let expectedRoot = state.contextRoot ?? analysis.wholeContextBind?.target
        let root = call.options["--root"].flatMap { value in cwd.map { UnixPath.resolve(value, against: $0) } } ?? cwd

        if call.options["--allow-missing"] == nil && expectedRoot == nil {
            var fix = edits
            fix.insertGuardOptions(call, ["--allow-missing"])
            findings.append(
                Finding(
                    file: file, line: line, severity: .hazard, rule: .guardMissingFiles,
                    cause:
                        "This stage has no copy of the whole build context (`COPY . .`), so the guard finds files of the manifest missing and refuses the build.",
                    fix: Fix("Copy the whole context before the guard, or let it skip what is not here:", lines: fix.lines())))
        }
        if let expectedRoot, let root, root != expectedRoot {
            var fix = edits
            fix.insertGuardOptions(call, ["--root", expectedRoot])
            findings.append(
                Finding(
                    file: file, line: line, severity: .hazard, rule: .guardRoot,
                    cause:
                        "The guard checks \(root), but the build context was copied to \(expectedRoot): every file of the manifest looks missing there.",
                    fix: Fix("Point the guard at the copied context:", lines: fix.lines())))
        }
        if call.subcommand == "run" || call.subcommand == "prepare" {
            let readOnly = analysis.contextBinds.filter(\.isReadOnly)
            if !readOnly.isEmpty {
                var fix = edits
                for mount in readOnly { fix.makeWritable(mount) }
                findings.append(
                    Finding(
                        file: file, line: line, severity: .hazard, rule: .guardReadOnlyMount,
                        cause:
                            "The guard sets mtimes on the sources, but \(readOnly.map { $0.target ?? "" }.joined(separator: ", ")) \(readOnly.count == 1 ? "is a read-only bind mount" : "are read-only bind mounts") of the context: it fails there (writes to an `rw` bind mount are discarded after the RUN).",
                        fix: Fix("Make the context's bind mounts writable:", lines: fix.lines())))
            }
        }
        if call.subcommand != "check", let cache = outputCaches.first, let stamp = stampPath(of: call, step: step, root: root) {
            if !outputCaches.contains(where: { UnixPath.isWithin(stamp, $0.target ?? "/") }) {
                let elsewhere = analysis.mounts.first { $0.kind == .cache && UnixPath.isWithin(stamp, $0.target ?? "/") }
                var fix = edits
                fix.setStamp(call, to: (cache.target ?? "") + "/.git-mtime-stamp")
                findings.append(
                    Finding(
                        file: file, line: line, severity: elsewhere == nil ? .warning : .hazard, rule: .stampOutsideCache,
                        cause: elsewhere == nil
                            ? "The guard's stamp \(stamp) is not in the cache mount \(cache.target ?? "") that keeps the outputs: it is lost with the layer, so every build finds no stamp and recompiles everything."
                            : "The guard's stamp \(stamp) is in another cache mount (\(elsewhere!.target ?? "")) than the outputs (\(cache.target ?? "")): the stamp can stay trusted while those outputs change, and a changed file can then keep an old mtime.",
                        fix: Fix("Keep the stamp beside the outputs it describes:", lines: fix.lines())))
            }
        }
    }

    /// `--stamp`, else `GIT_MTIME_STAMP` (the command's or the stage's), else `target/.git-mtime-stamp` under the root.
    private func stampPath(of call: GuardUse, step: Step, root: String?) -> String? {
        let cwd = call.workingDirectory
        if let explicit = call.options["--stamp"] { return cwd.map { UnixPath.resolve(explicit, against: $0) } }
        let assigned = call.assignments.last { $0.hasPrefix("GIT_MTIME_STAMP=") }.map { String($0.dropFirst("GIT_MTIME_STAMP=".count)) }
        if let value = assigned ?? step.variables["GIT_MTIME_STAMP"], !value.isEmpty {
            return cwd.map { UnixPath.resolve(value, against: $0) }
        }
        return root.map { UnixPath.resolve("target/.git-mtime-stamp", against: $0) }
    }

    /// The guard line for an unguarded build: the mount (unless there), `guard run [options] --`
    /// before the build command, the options this stage needs, writable context bind mounts.
    private func guardFix(for build: BuildUse, _ analysis: RunAnalysis, _ state: StageState, outputCaches: [RunMount]) -> Fix {
        var edits = EditSet(analysis)
        if analysis.guardMount == nil { edits.insertMount() }
        var options: [String] = []
        let expectedRoot = state.contextRoot ?? analysis.wholeContextBind?.target
        if expectedRoot == nil { options.append("--allow-missing") }
        let root = expectedRoot ?? analysis.step.workdir
        if build.workingDirectory != root { options += ["--root", root] }
        if let cache = outputCaches.first, let target = cache.target {
            let stamp =
                analysis.step.variables["GIT_MTIME_STAMP"].map { UnixPath.resolve($0, against: build.workingDirectory ?? root) }
                ?? UnixPath.resolve("target/.git-mtime-stamp", against: root)
            if !outputCaches.contains(where: { UnixPath.isWithin(stamp, $0.target ?? "/") }) {
                options += ["--stamp", target + "/.git-mtime-stamp"]
            }
        }
        for mount in analysis.contextBinds where mount.isReadOnly { edits.makeWritable(mount) }
        let guardPath = (analysis.guardMount?.target ?? "/git-mtime") + "/guard"
        edits.insertGuard(before: build.place, path: guardPath, options: options)
        let lines = edits.lines()
        let summary = "Run the build under the guard, and build with `git mtime docker build …`"
        return Fix(
            lines.isEmpty ? summary + ": `\(guardPath) run \(options.map { $0 + " " }.joined())-- \(build.commandLine)`." : summary + ":",
            lines: lines)
    }

    /// Is this cache mount where `build` keeps its outputs?
    private func isOutputCache(_ mount: RunMount, for build: BuildUse, step: Step) -> Bool {
        guard let target = mount.target else { return false }
        if let output = outputDirectory(of: build, step: step),
            UnixPath.isWithin(target, output) || UnixPath.isWithin(output, target)
        {
            return true
        }
        let name = target.split(separator: "/").last.map(String.init) ?? ""
        return DockerfileRules.outputDirectoryNames.contains(name) || name.hasPrefix("cmake-build-")
            || ["/node_modules/.cache", "/.next/cache"].contains { target.hasSuffix($0) }
    }

    static let outputDirectoryNames: Set<String> = ["target", "build", "builddir", "_build", ".build", "out", "dist", "obj", ".turbo"]

    /// Where a build writes: cargo's target directory (`--target-dir`, `CARGO_TARGET_DIR`, else
    /// `target`), `cmake --build DIR`, `meson compile -C DIR`, a tool's fixed default.
    private func outputDirectory(of build: BuildUse, step: Step) -> String? {
        guard let cwd = build.workingDirectory else { return nil }
        func value(after option: String) -> String? {
            if let index = build.words.firstIndex(of: option), index + 1 < build.words.count { return build.words[index + 1] }
            return build.words.first { $0.hasPrefix(option + "=") }.map { String($0.dropFirst(option.count + 1)) }
        }
        switch build.tool.name {
        case "cargo":
            let assigned = build.assignments.last { $0.hasPrefix("CARGO_TARGET_DIR=") }.map {
                String($0.dropFirst("CARGO_TARGET_DIR=".count))
            }
            let directory = value(after: "--target-dir") ?? assigned ?? step.variables["CARGO_TARGET_DIR"] ?? "target"
            return UnixPath.resolve(directory, against: cwd)
        case "cmake":
            return value(after: "--build").map { UnixPath.resolve($0, against: cwd) }
        case "meson":
            return value(after: "-C").map { UnixPath.resolve($0, against: cwd) }
        default:
            return build.tool.defaultOutputs.map { UnixPath.resolve($0, against: cwd) }
        }
    }

    // MARK: - Workarounds

    private func workarounds(_ analysis: RunAnalysis, _ state: StageState, mtimeBuilds: [BuildUse], _ findings: inout [Finding]) {
        let builds = state.lastBuild != nil || !mtimeBuilds.isEmpty
        guard builds else { return }
        let line = analysis.step.instruction.line
        let instead =
            "the guard line bumps exactly the files whose content changed since the last sealed build, so everything else stays built"
        var reported: Set<Rule> = []
        for command in analysis.commands {
            let name = BuildTool.commandName(command.words)
            let arguments = command.words.dropFirst().filter { !$0.hasPrefix("-") }
            let rendered = command.words.joined(separator: " ")
            let touches =
                name == "touch" || (command.words.contains("-exec") && command.words.contains("touch"))
                || (name == "xargs" && command.words.contains("touch"))
            if touches, !arguments.isEmpty, reported.insert(.workaroundTouch).inserted {
                findings.append(
                    Finding(
                        file: file, line: line, severity: .info, rule: .workaroundTouch,
                        cause:
                            "`\(rendered)` makes the touched files look changed on every build, so they and everything depending on them recompile whether they changed or not.",
                        fix: Fix("Drop it and guard the build: \(instead).")))
            }
            if name == "rm", arguments.contains(where: DockerfileRules.isForcedRebuildPath), reported.insert(.workaroundRemove).inserted {
                findings.append(
                    Finding(
                        file: file, line: line, severity: .info, rule: .workaroundRemove,
                        cause: "`\(rendered)` deletes sources or build records to force a rebuild, which throws away incremental work.",
                        fix: Fix("Drop it and guard the build: \(instead).")))
            }
            if name == "cargo", BuildTool.subcommand(command.words.dropFirst(), optionsWithValue: []).first == "clean",
                reported.insert(.workaroundCargoClean).inserted
            {
                findings.append(
                    Finding(
                        file: file, line: line, severity: .info, rule: .workaroundCargoClean,
                        cause: "`\(rendered)` throws away cargo's outputs to force a rebuild.",
                        fix: Fix("Drop it and guard the build: \(instead).")))
            }
        }
    }

    /// `src`, `src/*.rs`, `*.rs`, cargo's `deps/app*` or `.fingerprint/app-*`: what is deleted to force a rebuild.
    static func isForcedRebuildPath(_ path: String) -> Bool {
        let clean = path.hasPrefix("./") ? String(path.dropFirst(2)) : path
        return clean == "src" || clean.hasPrefix("src/") || clean.hasSuffix(".rs")
            || clean.contains("/deps/") || clean.contains(".fingerprint") || clean.contains("/incremental")
    }
}
