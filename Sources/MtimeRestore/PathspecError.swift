import GitKit

/// A pathspec git itself would refuse; `description` is git's message for it.
public enum PathspecError: Error, CustomStringConvertible, Sendable, Equatable {
    case emptyPattern
    case unknownMagic(String, String)
    case missingParenthesis(String)
    case unimplementedMagic(Character, String)
    case literalAndGlob(String)
    case globAndNoglob
    case literalWithOtherGlobalMagic
    /// The pattern as typed, its path part, the working tree.
    case outsideRepository(String, String, String)
    case invalidPrefixMagic(String)
    /// `:(prefix:N)` typed below the top of the working tree (git stops with an internal error).
    case prefixMagicBelowTop(String)
    /// Magic git knows that git-mtime does not support (`attr`).
    case unsupportedMagic(String, String)
    case badEnvironment(GitEnvironmentError)

    public var description: String {
        switch self {
        case .emptyPattern: return "empty string is not a valid pathspec. please use . instead if you meant to match all paths"
        case .unknownMagic(let word, let element): return "Invalid pathspec magic '\(word)' in '\(element)'"
        case .missingParenthesis(let element): return "Missing ')' at the end of pathspec magic in '\(element)'"
        case .unimplementedMagic(let character, let element): return "Unimplemented pathspec magic '\(character)' in '\(element)'"
        case .literalAndGlob(let element): return "\(element): 'literal' and 'glob' are incompatible"
        case .globAndNoglob: return "global 'glob' and 'noglob' pathspec settings are incompatible"
        case .literalWithOtherGlobalMagic:
            return "global 'literal' pathspec setting is incompatible with all other global pathspec settings"
        case .outsideRepository(let element, let path, let root): return "\(element): '\(path)' is outside repository at '\(root)'"
        case .invalidPrefixMagic: return "invalid parameter for pathspec magic 'prefix'"
        case .prefixMagicBelowTop(let element):
            return "\(element): pathspec magic 'prefix' can only be used at the top of the working tree"
        case .unsupportedMagic(let element, let magic): return "\(element): pathspec magic not supported by git-mtime: '\(magic)'"
        case .badEnvironment(let error): return error.description
        }
    }
}
