#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Whether a descriptor is a terminal (progress lines are only drawn on one).
public func isTerminal(_ descriptor: Int32) -> Bool { isatty(descriptor) == 1 }
