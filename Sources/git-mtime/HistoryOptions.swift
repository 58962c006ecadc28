import ArgumentParser
import MtimeHistory

/// Which commit gives a file its time: shared by every command that computes times.
struct HistoryOptions: ParsableArguments {
    @Option(
        help: ArgumentHelp(
            "Which commits count: 'first-parent' (the last change along HEAD's first-parent line, like `git log -1 --first-parent -- PATH`, replace refs and grafts included) or 'all'.",
            valueName: "mode"))
    var history: HistoryMode = .firstParent

    @Flag(help: "Use the author time instead of the committer time.")
    var authorDate = false
}
