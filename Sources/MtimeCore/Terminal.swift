import Glibc

/// Whether a descriptor is a terminal (progress lines are only drawn on one).
public func isTerminal(_ descriptor: Int32) -> Bool { isatty(descriptor) == 1 }
