import Foundation
import GitKit
import MtimeCore
import Testing
import TestSupport

/// Issue 10, defect 4: a commit date of 2^63 overflowed on the add after the multiply check.
@Test func commitHeadersWithOverflowingDatesParseAsTheEpoch() throws {
    let tree = String(repeating: "ab", count: 20)
    for (date, expected) in [
        ("9223372036854775807", Int64.max), ("9223372036854775808", 0), ("-9223372036854775808", 0),
        ("99999999999999999999", 0), ("1600000000", 1_600_000_000),
    ] {
        let header = Array("tree \(tree)\nauthor a <a@b> \(date) +0000\ncommitter a <a@b> \(date) +0000\n\nm\n".utf8)
        let commit = try #require(header.withUnsafeBytes { Commit(id: .zero, parsing: $0) })
        #expect(commit.committerTime == expected && commit.authorTime == expected, "\(date)")
    }
}

/// RELIABILITY.md defect 21: commit headers git reads differently from a line-by-line scan. Git
/// takes parents only from the `parent` lines right after the first line (`tree`), reads hex in
/// either case, refuses a commit whose first line is not its tree, and finds a date only where
/// `split_ident_line` does (`%ct` empty: the epoch). Every combination of header order and
/// identity shape below is written with `git hash-object --literally` and read back, against
/// `git show -s --format=%P/%ct/%at`.
@Test func commitHeadersAreReadAsGitReadsThem() throws {
    let repo = try GitRepository(label: "commit-headers")
    try repo.write("f", "x\n")
    let base = try repo.commit("base")
    let tree = try repo.git("rev-parse", "HEAD^{tree}").trimmingCharacters(in: .whitespacesAndNewlines)
    let idents = [
        "t <t@t> 1609459200 +0000", "t <t@t> 1609459200", "t <t@t>", "t <t@t> -5 +0000", "t <t@t> +1609459200 +0000",
        "t <t@t>   01609459200 \t +0000", "t <t@t>1609459200 +0000", "t <t@t> 1609459200x +0000", "t <t@t> 1609459200 +",
        "t <t@t> 1609459200 +0000 junk", "t <t@t> 1609459200 0000", "t <t>@t> 1609459200 +0100", "t t@t 1609459200 +0000",
        "t <t@t 1609459200 +0000", "t > 1609459200 +0000", "<> 1609459200 -0700", "t <t@t> 1609459200\t+0000",
    ]
    let parent = "parent \(base)"
    let upperParent = "parent \(base.uppercased())"
    let shapes: [(String, (String, String) -> [String])] = [
        ("plain", { a, c in ["tree \(tree)", parent, "author \(a)", "committer \(c)"] }),
        ("root", { a, c in ["tree \(tree)", "author \(a)", "committer \(c)"] }),
        ("parent after author", { a, c in ["tree \(tree)", "author \(a)", parent, "committer \(c)"] }),
        ("parent last", { a, c in ["tree \(tree)", "author \(a)", "committer \(c)", parent] }),
        ("upper-case parent", { a, c in ["tree \(tree)", upperParent, "author \(a)", "committer \(c)"] }),
        ("two parents", { a, c in ["tree \(tree)", parent, parent, "author \(a)", "committer \(c)"] }),
        ("tree second", { a, c in ["author \(a)", "tree \(tree)", parent, "committer \(c)"] }),
        ("two committers", { a, c in ["tree \(tree)", parent, "author \(a)", "committer \(c)", "committer t <t@t> 1700000000 +0000"] }),
        ("short parent", { a, c in ["tree \(tree)", "parent \(base.dropLast())", "author \(a)", "committer \(c)"] }),
        ("continuation", { a, c in ["tree \(tree)", parent, "author \(a)", "committer \(c)", "gpgsig x", " committer t <t@t> 5 +0000"] }),
    ]
    let objects = try ObjectDatabase(try Repository(discoveringFrom: repo.path))
    var cases = 0
    for (name, shape) in shapes {
        for (index, ident) in idents.enumerated() {
            let other = idents[(index + 3) % idents.count]
            let text = (shape(other, ident) + ["", "message", ""]).joined(separator: "\n")
            let id = try runChecked(["git", "hash-object", "-t", "commit", "-w", "--literally", "--stdin"], in: repo.path, input: text)
                .stdout.trimmingCharacters(in: .whitespacesAndNewlines)
            let shown = try run(["git", "show", "-s", "--format=%P/%ct/%at", id], in: repo.path)
            let ours = try? objects.commit(try #require(ObjectID(hex: id)))
            cases += 1
            guard shown.succeeded else {
                #expect(ours == nil, "\(name) [\(ident)]: git refuses the commit, we read \(String(describing: ours))")
                continue
            }
            let fields = shown.stdout.trimmingCharacters(in: .newlines).split(separator: "/", omittingEmptySubsequences: false)
            let parents = fields[0].split(separator: " ").map { String($0) }
            let git = "\(parents) \(Int64(fields[1]) ?? 0) \(Int64(fields[2]) ?? 0)"
            let mine = ours.map { "\($0.parents.map(\.hex)) \($0.committerTime) \($0.authorTime)" } ?? "refused"
            #expect(mine == git, "\(name) [\(ident)] / [\(other)]")
        }
    }
    #expect(cases == shapes.count * idents.count)
}
