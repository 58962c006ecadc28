// libgit2 (built with mbedTLS, as Debian ships it) parses the whole system CA bundle inside
// `git_libgit2_init`, whether or not the process ever opens a connection: about 200 KB of base64
// and X.509, a few milliseconds of every run. git-mtime only reads local repositories, so the
// executable provides the two mbedTLS loaders libgit2 calls; the dynamic linker binds libgit2's
// calls to these definitions before the library's own. Loading "succeeds" with an empty trust
// chain, so a TLS connection, should anything ever attempt one, fails certificate verification
// instead of trusting anything.

@_cdecl("mbedtls_x509_crt_parse_file")
public func skipCertificateFile(_ chain: OpaquePointer?, _ path: UnsafePointer<CChar>?) -> Int32 { 0 }

@_cdecl("mbedtls_x509_crt_parse_path")
public func skipCertificateDirectory(_ chain: OpaquePointer?, _ path: UnsafePointer<CChar>?) -> Int32 { 0 }
