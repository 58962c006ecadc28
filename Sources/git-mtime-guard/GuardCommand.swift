import ArgumentParser

@main
struct GuardCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "git-mtime-guard", abstract: "(not yet implemented)")
}
