import GitKit
import MtimeCore

/// `git log`'s default walk order: newest committer date first (git's `commit->date`, `Commit.walkDate`),
/// equal dates first-queued first.
struct CommitQueue {
    private var heap: [(commit: Commit, sequence: Int)] = []
    private var queued: [ObjectID: Commit] = [:]
    private var nextSequence = 0
    private var seen: Set<ObjectID> = []

    init(_ start: Commit) {
        seen.insert(start.id)
        push(start)
    }

    var isEmpty: Bool { heap.isEmpty }

    /// Queues the parents not seen yet, in parent order, and returns all parents git's walk follows
    /// (none for a shallow boundary commit).
    mutating func queueParents(of commit: Commit, shallow: Set<ObjectID>, _ objects: ObjectDatabase) throws(GitError) -> [ObjectID] {
        if shallow.contains(commit.id) { return [] }
        for parent in commit.parents where seen.insert(parent).inserted { push(try objects.commit(parent)) }
        return commit.parents
    }

    private mutating func push(_ commit: Commit) {
        heap.append((commit, nextSequence))
        queued[commit.id] = commit
        nextSequence += 1
        var child = heap.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            guard precedes(heap[child], heap[parent]) else { break }
            heap.swapAt(child, parent)
            child = parent
        }
    }

    mutating func pop() -> Commit? {
        guard !heap.isEmpty else { return nil }
        heap.swapAt(0, heap.count - 1)
        let top = heap.removeLast().commit
        var parent = 0
        while true {
            let left = 2 * parent + 1, right = left + 1
            var best = parent
            if left < heap.count, precedes(heap[left], heap[best]) { best = left }
            if right < heap.count, precedes(heap[right], heap[best]) { best = right }
            if best == parent { break }
            heap.swapAt(parent, best)
            parent = best
        }
        queued[top.id] = nil
        return top
    }

    /// A commit still queued comes from memory; one already walked is read again.
    func commit(_ id: ObjectID, _ objects: ObjectDatabase) throws(GitError) -> Commit {
        if let commit = queued[id] { return commit }
        return try objects.commit(id)
    }

    private func precedes(_ a: (commit: Commit, sequence: Int), _ b: (commit: Commit, sequence: Int)) -> Bool {
        if a.commit.walkDate != b.commit.walkDate { return a.commit.walkDate > b.commit.walkDate }
        return a.sequence < b.sequence
    }
}
