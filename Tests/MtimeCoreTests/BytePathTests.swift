import MtimeCore
import Testing

/// The one way a resolved path is made relative to a root, and the one lexical clean.
struct BytePathTests {
    @Test func relativeToABase() {
        let cases: [(path: String, base: String, expected: String?)] = [
            ("/work/tree/src/main.rs", "/work/tree", "src/main.rs"),
            ("/work/tree", "/work/tree", ""),
            ("/work/tree/", "/work/tree", ""),
            ("/work/treehouse/a", "/work/tree", nil),
            ("/work", "/work/tree", nil),
            ("/etc/passwd", "/", "etc/passwd"),
            ("/", "/", ""),
            ("relative/a", "/", nil),
            ("sub/dir/file", "sub", "dir/file"),
            ("sub/dir/file", "", "sub/dir/file"),
            ("subway/file", "sub", nil),
        ]
        for (path, base, expected) in cases {
            #expect(
                BytePath(path).relative(to: BytePath(base)).map { String(decoding: $0.bytes, as: UTF8.self) } == expected,
                "\(path) relative to \(base)")
        }
    }

    @Test func withinTheFileSystemRoot() {
        #expect(BytePath("/a/b").isWithin(BytePath("/")))
        #expect(BytePath("/").isWithin(BytePath("/")))
        #expect(!BytePath("a/b").isWithin(BytePath("/")))
    }

    @Test func lexicalComponents() {
        let cases: [(String, String)] = [
            ("a/./b/../c", "a/c"), ("../../a", "a"), ("/x/../../y", "y"), ("a//b/", "a/b"), (".", ""), ("a/..", ""),
        ]
        for (path, expected) in cases {
            let cleaned = BytePath(path).lexicalComponents.map { String(decoding: $0, as: UTF8.self) }.joined(separator: "/")
            #expect(cleaned == expected, "\(path)")
        }
    }
}
