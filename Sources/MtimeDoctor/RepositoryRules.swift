import GitKit
import MtimeCore
import MtimeHooks
import MtimeManifest
import MtimeRestore

/// What in the repository keeps git-mtime from doing its job: a shallow or treeless clone, hooks
/// that are missing or will not run, a stamp setting or a stamp that cannot be trusted.
public struct RepositoryRules {
    public let session: RestoreSession
    /// The working-tree root, no trailing `/`.
    public let root: BytePath

    public init(session: RestoreSession) throws {
        self.session = session
        root = try FileSystem.resolve(session.workdir)
    }

    public func findings() -> [Finding] {
        var findings: [Finding] = []
        let treeless = treelessFilter()
        if let filter = treeless.filter {
            findings.append(
                Finding(
                    file: display(session.repository.commonDirectory.appending("config")), line: 0, severity: .hazard, rule: .treelessClone,
                    cause:
                        "This is a treeless clone (filter \(filter) on \(treeless.remote)): restore reads the trees of the history, which are not here, and fails with \"object not found\".",
                    fix: Fix(
                        "Make it a blobless clone, which restores exactly (fetches the trees once):",
                        lines: [
                            FixLine(
                                .run, file: "",
                                text:
                                    "git config remote.\(treeless.remote).partialclonefilter blob:none && git fetch --refetch \(treeless.remote)"
                            )
                        ])))
        } else if session.repository.isShallow {
            let count = (try? session.plan(RestoreOptions()))?.shallowBoundaryFiles
            findings.append(
                Finding(
                    file: display(session.repository.location.shallowFile), line: 0, severity: .warning,
                    rule: .shallowClone,
                    cause:
                        "This is a shallow clone: files last changed before its boundary get the boundary commit's time\(count.map { " (\($0) file\($0 == 1 ? "" : "s") here)" } ?? ""), not their own, so a cache built from a deeper clone sees them as changed.",
                    fix: Fix(
                        "Fetch the whole history (in CI: `fetch-depth: 0`, `GIT_DEPTH: 0`):",
                        lines: [FixLine(.run, file: "", text: "git fetch --unshallow")])))
        }
        findings += hookFindings()
        findings += stampFindings()
        return findings
    }

    /// A promisor remote whose partial-clone filter leaves trees out (`tree:<depth>`): every fetch from
    /// it brings commits without their trees.
    private func treelessFilter() -> (remote: String, filter: String?) {
        for (name, value) in session.repository.configEntries(matching: "^remote\\..*\\.partialclonefilter$") where value.hasPrefix("tree:")
        {
            let remote = String(name.dropFirst("remote.".count).dropLast(".partialclonefilter".count))
            return (remote, value)
        }
        return ("", nil)
    }

    private func hookFindings() -> [Finding] {
        let location: HookLocation
        do { location = try HookLocation.resolve(.repository(root)) } catch {
            return []
        }
        let installer = HookInstaller(directory: location.directory)
        var findings: [Finding] = []
        var states: [(HookName, HookFileState)] = []
        for hook in HookName.allCases {
            guard let state = try? installer.state(of: hook) else { continue }
            states.append((hook, state))
        }
        let defaultDirectory = session.repository.gitDirectory.appending("hooks")
        if location.directory != defaultDirectory,
            (try? FileSystem.resolve(location.directory)) != (try? FileSystem.resolve(defaultDirectory))
        {
            let stale = HookInstaller(directory: defaultDirectory)
            let strays = HookName.allCases.filter { if case .installed? = try? stale.state(of: $0) { return true } else { return false } }
            if !strays.isEmpty {
                findings.append(
                    Finding(
                        file: display(defaultDirectory), line: 0, severity: .warning, rule: .hooksIncomplete,
                        cause:
                            "git-mtime's \(strays.map(\.rawValue).joined(separator: ", ")) \(strays.count == 1 ? "hook is" : "hooks are") in \(display(defaultDirectory)), but core.hooksPath makes git run hooks from \(display(location.directory)) only.",
                        fix: Fix(
                            "Install them where git looks (your hooks there are kept and chained):",
                            lines: [FixLine(.run, file: "", text: "git mtime hooks install")])))
            }
        }
        let install = FixLine(.run, file: "", text: "git mtime hooks install")
        if states.allSatisfy({ $0.1 == .absent || $0.1 == .foreign }) {
            let foreign = states.filter { $0.1 == .foreign }.map(\.0.rawValue)
            findings.append(
                Finding(
                    file: display(location.directory), line: 0, severity: .info, rule: .hooksMissing,
                    cause:
                        "The git-mtime hooks are not installed: after a checkout, merge or rebase the files git rewrote keep the time git gave them until the next `git mtime restore`\(foreign.isEmpty ? "" : " (\(foreign.joined(separator: ", ")) \(foreign.count == 1 ? "is" : "are") another hook, which install keeps and chains)").",
                    fix: Fix("Install them:", lines: [install])))
            return findings
        }
        for (hook, state) in states {
            let path = location.directory.appending(hook.rawValue)
            switch state {
            case .absent, .foreign:
                findings.append(
                    Finding(
                        file: display(path), line: 0, severity: .warning, rule: .hooksIncomplete,
                        cause: state == .absent
                            ? "The other git-mtime hooks are installed, but \(hook.rawValue) is missing: \(RepositoryRules.effect(of: hook)) keep the time git gave them."
                            : "The other git-mtime hooks are installed, but \(hook.rawValue) is another program's hook that does not run git-mtime: \(RepositoryRules.effect(of: hook)) keep the time git gave them.",
                        fix: Fix("Install it (a hook that is there is kept and runs first):", lines: [install])))
            case .installed(let chained, let current):
                if (try? FileSystem.statusIfPresent(path))?.isExecutable == false {
                    findings.append(
                        Finding(
                            file: display(path), line: 0, severity: .warning, rule: .hooksIncomplete,
                            cause: "\(hook.rawValue) is not executable, so git skips it.",
                            fix: Fix(
                                "Make it executable:",
                                lines: [FixLine(.run, file: "", text: "chmod +x \(EditSet.shellQuoted(path.description))")])))
                }
                if !current {
                    findings.append(
                        Finding(
                            file: display(path), line: 0, severity: .warning, rule: .hooksIncomplete,
                            cause: "\(hook.rawValue) was written by an older git-mtime.",
                            fix: Fix("Install again (it rewrites only git-mtime's own scripts):", lines: [install])))
                }
                let chainedPath = location.directory.appending(hook.chainedName)
                if chained, (try? FileSystem.statusIfPresent(chainedPath))?.isExecutable == false {
                    findings.append(
                        Finding(
                            file: display(chainedPath), line: 0, severity: .warning, rule: .hooksIncomplete,
                            cause:
                                "Your previous \(hook.rawValue) hook, chained as \(hook.chainedName), is not executable, so it no longer runs.",
                            fix: Fix(
                                "Make it executable:",
                                lines: [FixLine(.run, file: "", text: "chmod +x \(EditSet.shellQuoted(chainedPath.description))")])))
                }
            case .linked, .edited:
                // Git runs our script through the link; an edited script is the user's, kept as it is.
                break
            }
        }
        return findings
    }

    private static func effect(of hook: HookName) -> String {
        switch hook {
        case .postCheckout: return "files a checkout or branch switch rewrites"
        case .postMerge: return "files a merge or pull rewrites"
        case .postRewrite: return "files a rebase or amend rewrites"
        }
    }

    private func stampFindings() -> [Finding] {
        let settings: RepositorySettings
        do { settings = try RepositorySettings(repository: session.repository, workdir: session.workdir) } catch {
            return [
                Finding(
                    file: display(session.repository.commonDirectory.appending("config")), line: 0, severity: .warning,
                    rule: .hookModeInvalid,
                    cause: "\(error): the hooks, `git mtime run` and `git mtime status` refuse to run.",
                    fix: Fix("Set a valid mode:", lines: [FixLine(.run, file: "", text: "git config \(RepositorySettings.modeKey) safe")]))
            ]
        }
        var findings: [Finding] = []
        if !settings.stampPath.isWithin(root) {
            findings.append(
                Finding(
                    file: display(session.repository.commonDirectory.appending("config")), line: 0, severity: .warning,
                    rule: .stampOutsideTree,
                    cause:
                        "\(RepositorySettings.stampKey) points outside the working tree (\(settings.stampPath)): the hooks and `git mtime run` trust a stamp that builds of this tree do not write beside their outputs (the guard's default is \(RepositorySettings.defaultStamp)).",
                    fix: Fix(
                        "Point it at the stamp in the build's output directory:",
                        lines: [
                            FixLine(.run, file: "", text: "git config \(RepositorySettings.stampKey) \(RepositorySettings.defaultStamp)")
                        ])))
        }
        if case .untrusted(let reason) = settings.loadStamp() {
            findings.append(
                Finding(
                    file: display(settings.stampPath), line: 0, severity: .warning, rule: .stampUntrusted,
                    cause:
                        "The build stamp is not trusted: \(reason); the next guarded build treats every file as changed and the hooks fall back to \"newer than the checkout\".",
                    fix: Fix(
                        "Build once through the guard to seal a fresh stamp:",
                        lines: [FixLine(.run, file: "", text: "git mtime run -- <your build command>")])))
        }
        return findings
    }

    /// Relative to the working-tree root when inside it.
    func display(_ path: BytePath) -> String {
        let resolved = (try? FileSystem.resolve(path)) ?? path
        guard let below = resolved.relative(to: root), !below.isEmpty else { return path.description }
        return String(decoding: below.bytes, as: UTF8.self)
    }
}
