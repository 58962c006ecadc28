import Foundation
import MtimeCore
import Testing
@testable import MtimeDockerContext

/// The hand-written rule cases of EngineCases.json, each with what real Docker builds received
/// (recorded by `suites/docker/dockerignore.py --record-rules`; the docker suite checks that the engine
/// still does so). Here the rules alone decide, with no files: the same verdicts, per builder.
struct EngineCase: Sendable, CustomTestStringConvertible {
    let name: String
    let files: [BytePath]
    let ignore: [UInt8]
    /// Per builder name: the paths the build received, or nil when the build failed.
    let expected: [String: Set<BytePath>?]

    var testDescription: String { name }

    static let all: [EngineCase] = {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("EngineCases.json")
        let data = try! Data(contentsOf: url)
        let root = try! JSONSerialization.jsonObject(with: data) as! [String: Any]
        return (root["cases"] as! [[String: Any]]).map { item in
            var expected: [String: Set<BytePath>?] = [:]
            for (builder, value) in item["expected"] as? [String: Any] ?? [:] {
                // "error": the build failed (a nil value, kept in the dictionary).
                expected.updateValue((value as? [String]).map { Set($0.map { BytePath(unescape($0)) }) }, forKey: builder)
            }
            return EngineCase(
                name: item["name"] as! String, files: (item["files"] as! [String]).map { BytePath(unescape($0)) },
                ignore: unescape(item["ignore"] as! String), expected: expected)
        }
    }()

    /// The fixture's strings: `\xHH` is the byte HH, `\\` a backslash, the rest UTF-8.
    static func unescape(_ text: String) -> [UInt8] {
        let raw = Array(text.utf8)
        var out: [UInt8] = []
        var index = 0
        while index < raw.count {
            if raw[index] == UInt8(ascii: "\\"), index + 1 < raw.count, raw[index + 1] == UInt8(ascii: "\\") {
                out.append(UInt8(ascii: "\\"))
                index += 2
            } else if raw[index] == UInt8(ascii: "\\"), index + 3 < raw.count, raw[index + 1] == UInt8(ascii: "x"),
                let byte = UInt8(String(decoding: raw[(index + 2)...(index + 3)], as: UTF8.self), radix: 16)
            {
                out.append(byte)
                index += 4
            } else {
                out.append(raw[index])
                index += 1
            }
        }
        return out
    }

    /// The builders the recording names, as the manifest describes them.
    static let builders: [String: DockerBuilder] = [
        "buildkit-20.10": DockerBuilder(kind: .buildKit, client: .fileutils),
        "classic-20.10": DockerBuilder(kind: .classic, client: .fileutils),
        // Debian's docker 20.10 daemon behind a docker 28 client.
        "classic-28": DockerBuilder(kind: .classic, client: .patternmatcher, daemon: .fileutils),
    ]

    /// What the rules keep of the case's context (`Dockerfile` and `.dockerignore` at its root); nil
    /// when they refuse it (a pattern Docker fails on).
    func kept(by builder: DockerBuilder) -> Set<BytePath>? {
        let ignorePath = BytePath(".dockerignore"), dockerfile = BytePath("Dockerfile")
        do {
            let daemon = DockerContextRules.DaemonReading(contents: ignore, requiredEntries: [ignorePath], engine: builder.daemon)
            let rules = try DockerContextRules(
                builder: builder, ignoreFile: ".dockerignore", contents: ignore,
                classic: builder.kind == .classic ? (dockerfile, (daemon, ignorePath)) : nil)
            let context = rules.evaluator()
            var kept: Set<BytePath> = []
            for path in files + [dockerfile, ignorePath] where try context.includes(path) { kept.insert(path) }
            return kept
        } catch {
            return nil
        }
    }
}

@Suite struct EngineCaseTests {
    @Test func everyCaseHasARecordingForEveryBuilder() {
        #expect(EngineCase.all.count >= 40)
        for engineCase in EngineCase.all {
            #expect(Set(engineCase.expected.keys) == Set(EngineCase.builders.keys), "\(engineCase.name)")
        }
    }

    @Test(arguments: EngineCase.all)
    func rulesKeepWhatTheEngineReceived(_ engineCase: EngineCase) {
        for (name, builder) in EngineCase.builders.sorted(by: { $0.key < $1.key }) {
            guard let recorded = engineCase.expected[name] else { continue }
            let kept = engineCase.kept(by: builder)
            #expect(
                kept == recorded, "\(name): the engine received \(recorded.map { $0.sorted().map(\.description) } ?? ["(build failed)"])")
        }
    }
}
