#!/usr/bin/env bash
# Where the executables' bytes come from, next to a static swift-argument-parser hello-world built
# with the same flags in the same run (the floor any Swift command-line tool with ArgumentParser has).
#
# usage: bench/binary-weight.sh [PRODUCTS_DIR [BEFORE_DIR]]
#   PRODUCTS_DIR  the unstripped git-mtime and git-mtime-guard (default: .build-release/release,
#                 what scripts/release links); their stripped sizes are measured on copies
#   BEFORE_DIR    optional: another build's unstripped executables, attributed the same way
# Attribution: every sized symbol in the file (not .bss) is charged to the static archive that
# defines it (Swift's static runtime and Foundation libraries, Debian's libgit2 and its dependencies,
# glibc, libstdc++), else to the Swift module its mangled name names, else to "other".
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
products=$(cd "${1:-$root/.build-release/release}" && pwd)
before=${2:+$(cd "$2" && pwd)}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# The reference: ArgumentParser hello-world, static, stripped, same extra libraries as the release.
mkdir -p "$work/hello/Sources/hello"
cat >"$work/hello/Package.swift" <<'EOF'
// swift-tools-version:6.0
import PackageDescription
let package = Package(name: "hello",
    dependencies: [.package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2")],
    targets: [.executableTarget(name: "hello", dependencies: [.product(name: "ArgumentParser", package: "swift-argument-parser")])])
EOF
cat >"$work/hello/Sources/hello/main.swift" <<'EOF'
import ArgumentParser
struct Hello: ParsableCommand {
    @Option(help: "Whom to greet.") var name = "world"
    func run() { print("Hello, \(name)!") }
}
Hello.main()
EOF
swift build -c release --package-path "$work/hello" -Xswiftc -static-executable \
    -Xlinker -l_FoundationCollections -Xlinker -l_FoundationCShims -Xlinker -lswiftSynchronization >"$work/hello.log" 2>&1 ||
    { tail -n 20 "$work/hello.log" >&2; exit 1; }
cp "$work/hello/.build/release/hello" "$work/hello-world"

archives=(/opt/swift/usr/lib/swift_static/linux/*.a)
for library in git2 mbedtls mbedx509 mbedcrypto ssh2 crypto pcre2-8 http_parser z c m pthread; do
    path=$(cc -print-file-name="lib$library.a")
    [ "$path" = "lib$library.a" ] || archives+=("$path")
done
archives+=("$(cc -print-file-name=libstdc++.a)")
for archive in "${archives[@]}"; do
    { nm --defined-only "$archive" 2>/dev/null || true; } | awk -v a="$(basename "$archive")" 'NF == 3 {print $3 "\t" a}'
done >"$work/symbols"

report() {  # LABEL BINARY
    strip -o "$work/stripped" "$2"
    nm -S --defined-only "$2" >"$work/binary-symbols" 2>/dev/null || true
    python3 - "$1" "$(stat -c %s "$work/stripped")" "$work/symbols" "$work/binary-symbols" <<'PY'
import re, sys
label, stripped, symbols_path, binary_path = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
owner = {}
for line in open(symbols_path, errors="replace"):
    name, archive = line.rstrip("\n").split("\t")
    owner.setdefault(name, archive)
totals = {}
for line in open(binary_path, errors="replace"):
    parts = line.split()
    if len(parts) != 4 or parts[2] in "bB":
        continue
    size, name = int(parts[1], 16), parts[3]
    origin = owner.get(name)
    if origin is None and name.startswith("CCryptoBoringSSL"):
        origin = "BoringSSL (swift-crypto)"
    if origin is None:
        match = re.match(r"_?\$s(\d+)([A-Za-z_][A-Za-z0-9_]*)", name)
        origin = ("module " + match.group(2)[: int(match.group(1))]) if match else "other"
    totals[origin] = totals.get(origin, 0) + size
print(f"\n{label}: {stripped:,} bytes stripped ({stripped / 1e6:.1f} MB); sized symbols by origin:")
for origin, size in sorted(totals.items(), key=lambda item: -item[1])[:14]:
    print(f"  {size / 1e6:6.2f} MB  {origin}")
PY
}

hello=$(strip -o "$work/hello.stripped" "$work/hello-world" && stat -c %s "$work/hello.stripped")
echo "reference: static swift-argument-parser hello-world, stripped: $hello bytes ($(awk "BEGIN {printf \"%.1f\", $hello / 1e6}") MB)"
for program in git-mtime git-mtime-guard; do
    size=$(strip -o "$work/$program" "$products/$program" && stat -c %s "$work/$program")
    echo "$program: $size bytes stripped, $(awk "BEGIN {printf \"%.2f\", $size / $hello}")x the hello-world"
done
report "hello-world" "$work/hello-world"
for program in git-mtime git-mtime-guard; do report "$program" "$products/$program"; done
if [ -n "$before" ]; then
    for program in git-mtime git-mtime-guard; do report "before: $program" "$before/$program"; done
fi
