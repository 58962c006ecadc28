// libgit2 (built with mbedTLS, as Debian ships it) parses the whole system CA bundle inside
// `git_libgit2_init`, whether or not the process ever opens a connection: about 200 KB of base64
// and X.509, a few milliseconds of every run. git-mtime only reads local repositories, so the
// executable provides the two mbedTLS loaders libgit2 calls. Loading "succeeds" with an empty trust
// chain, so a TLS connection, should anything ever attempt one, fails certificate verification
// instead of trusting anything.
//
// Linked against the shared libgit2 (`swift build`), the dynamic linker binds libgit2's calls to
// these definitions before mbedTLS's own (Package.swift exports them). In the static release build
// mbedTLS's archive defines the same names, so scripts/release links with `--wrap` for both and
// compiles this file with GIT_MTIME_STATIC_LIBGIT2: libgit2's calls then reach the `__wrap_` names.

#if GIT_MTIME_STATIC_LIBGIT2
    @_cdecl("__wrap_mbedtls_x509_crt_parse_file")
    public func skipCertificateFile(_ chain: OpaquePointer?, _ path: UnsafePointer<CChar>?) -> Int32 { 0 }

    @_cdecl("__wrap_mbedtls_x509_crt_parse_path")
    public func skipCertificateDirectory(_ chain: OpaquePointer?, _ path: UnsafePointer<CChar>?) -> Int32 { 0 }
#else
    @_cdecl("mbedtls_x509_crt_parse_file")
    public func skipCertificateFile(_ chain: OpaquePointer?, _ path: UnsafePointer<CChar>?) -> Int32 { 0 }

    @_cdecl("mbedtls_x509_crt_parse_path")
    public func skipCertificateDirectory(_ chain: OpaquePointer?, _ path: UnsafePointer<CChar>?) -> Int32 { 0 }
#endif
