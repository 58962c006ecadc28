// swift-tools-version:6.0
// Layers, bottom to top (each target may only import the ones above it in this list):
//   CLibGit2       C module: libgit2 and zlib headers and a tiny shim
//   CSHA1          SHA-1 in C (the CPU's SHA instructions where present): no crypto library, no Foundation
//   MtimeCore      syscalls, object ids, blob hashing, timestamps, child processes, the version (no libgit2: the guard uses it)
//   GitKit         Swift owners of libgit2 handles, our own pack reader; no C pointer types leave this module
//   MtimeHistory   which commit last changed each path; the persistent cache; tree diffs
//   MtimeManifest  the manifest and build-stamp formats (no libgit2)
//   MtimeDockerContext  which files a Docker build context holds: .dockerignore as each docker client applies it (no libgit2)
//   MtimeGuard     check / prepare / seal / run and the build stamp (no libgit2)
//   MtimeRestore   working tree scan and mtime assignment on the host; the context manifest; repository settings
//   MtimeHooks     install / uninstall / run of the git hooks
//   MtimeDocker    the `docker build` wrapper: argument parsing, injection of guard and manifest (no libgit2)
//   MtimeDockerfile  the Dockerfile syntax as BuildKit reads it: directives, continuations, heredocs, stages, variables (no libgit2)
//   MtimeDoctor    `git mtime doctor`: stale-build hazards in Dockerfiles, .dockerignore and the repository, and their fixes
//   MtimeExplain   `git mtime explain`: why a file has (or will get) its mtime
//   git-mtime, git-mtime-guard   command-line front ends
// docs/ARCHITECTURE.md describes each layer. Each target declares exactly the modules it imports.
import PackageDescription

let package = Package(
    name: "git-mtime",
    products: [
        .executable(name: "git-mtime", targets: ["git-mtime"]),
        .executable(name: "git-mtime-guard", targets: ["git-mtime-guard"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2")
    ],
    targets: [
        .systemLibrary(
            name: "CLibGit2", pkgConfig: "libgit2",
            providers: [.apt(["libgit2-dev"])]),
        // Optimised in debug builds too: the tests hash real files through it.
        .target(name: "CSHA1", cSettings: [.unsafeFlags(["-O3"])]),
        .target(name: "MtimeCore", dependencies: ["CSHA1"]),
        .target(name: "GitKit", dependencies: ["CLibGit2", "MtimeCore"]),
        .target(name: "MtimeHistory", dependencies: ["GitKit", "MtimeCore"]),
        .target(name: "MtimeManifest", dependencies: ["MtimeCore"]),
        .target(name: "MtimeDockerContext", dependencies: ["MtimeCore"]),
        .target(name: "MtimeGuard", dependencies: ["MtimeManifest", "MtimeCore"]),
        .target(name: "MtimeRestore", dependencies: ["GitKit", "MtimeHistory", "MtimeManifest", "MtimeDockerContext", "MtimeCore"]),
        .target(name: "MtimeHooks", dependencies: ["MtimeRestore", "MtimeHistory", "GitKit", "MtimeManifest", "MtimeCore"]),
        .target(name: "MtimeDocker", dependencies: ["MtimeManifest", "MtimeDockerContext", "MtimeCore"]),
        .target(name: "MtimeDockerfile"),
        .target(
            name: "MtimeDoctor",
            dependencies: [
                "MtimeDockerfile", "MtimeDocker", "MtimeDockerContext", "MtimeHooks", "MtimeRestore", "MtimeManifest", "GitKit",
                "MtimeCore",
            ]),
        .target(
            name: "MtimeExplain", dependencies: ["MtimeGuard", "MtimeRestore", "MtimeManifest", "MtimeHistory", "GitKit", "MtimeCore"]),
        .executableTarget(
            name: "git-mtime",
            dependencies: [
                "MtimeCore", "MtimeHistory", "MtimeRestore", "MtimeHooks", "MtimeManifest", "MtimeDockerContext", "MtimeGuard",
                "MtimeDocker",
                "MtimeDoctor", "MtimeExplain",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            linkerSettings: [
                // NoCertificateLoading.swift: libgit2 must bind to the executable's certificate loaders.
                .unsafeFlags([
                    "-Xlinker", "--export-dynamic-symbol=mbedtls_x509_crt_parse_file",
                    "-Xlinker", "--export-dynamic-symbol=mbedtls_x509_crt_parse_path",
                ])
            ]),
        // Runs inside arbitrary container images: fully static, no libgit2, no Swift runtime needed there.
        .executableTarget(
            name: "git-mtime-guard",
            dependencies: [
                "MtimeGuard", "MtimeManifest", "MtimeCore",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ], swiftSettings: [.unsafeFlags(["-static-executable"])],
            linkerSettings: [
                .unsafeFlags([
                    "-static-executable", "-Xlinker", "-l_FoundationCollections", "-Xlinker", "-l_FoundationCShims", "-Xlinker",
                    "-lswiftSynchronization",
                ])
            ]),
        .target(name: "TestSupport", dependencies: ["MtimeCore"], path: "Tests/TestSupport"),
        // One test target per library target; GitMtimeTests covers the commands that live in the
        // git-mtime executable itself (run, status). Command-level tests run the built executables.
        .testTarget(name: "MtimeCoreTests", dependencies: ["MtimeCore", "TestSupport"]),
        .testTarget(name: "GitKitTests", dependencies: ["GitKit", "MtimeCore", "TestSupport"]),
        .testTarget(name: "MtimeHistoryTests", dependencies: ["MtimeHistory", "GitKit", "MtimeCore", "TestSupport"]),
        .testTarget(name: "MtimeManifestTests", dependencies: ["MtimeManifest", "MtimeCore", "TestSupport"]),
        .testTarget(name: "MtimeDockerContextTests", dependencies: ["MtimeDockerContext", "MtimeCore", "TestSupport"]),
        .testTarget(name: "MtimeGuardTests", dependencies: ["MtimeGuard", "MtimeManifest", "MtimeCore", "TestSupport"]),
        .testTarget(
            name: "MtimeRestoreTests",
            dependencies: ["MtimeRestore", "GitKit", "MtimeManifest", "MtimeHistory", "MtimeCore", "TestSupport"]),
        .testTarget(name: "MtimeHooksTests", dependencies: ["MtimeHooks", "MtimeRestore", "MtimeManifest", "MtimeCore", "TestSupport"]),
        .testTarget(
            name: "MtimeDockerTests", dependencies: ["MtimeDocker", "MtimeDockerContext", "MtimeCore", "TestSupport"], exclude: ["Fixtures"]
        ),
        .testTarget(name: "MtimeDockerfileTests", dependencies: ["MtimeDockerfile", "TestSupport"]),
        .testTarget(name: "MtimeDoctorTests", dependencies: ["MtimeDoctor", "MtimeDockerfile", "MtimeCore", "TestSupport"]),
        .testTarget(name: "MtimeExplainTests", dependencies: ["MtimeCore", "TestSupport"]),
        .testTarget(name: "GitMtimeTests", dependencies: ["MtimeCore", "TestSupport"]),
    ]
)
