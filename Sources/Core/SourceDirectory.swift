import Foundation
import Registry

/// The sources every front reports, with their derived status (`SourceReport`) and sync history.
public struct SourceDirectory: Sendable {
    let store: any SourceStore
    let now: @Sendable () -> Date

    public init(store: any SourceStore, now: @escaping @Sendable () -> Date = { Date() }) {
        self.store = store
        self.now = now
    }

    /// Every source in manifest order; removed ones (no longer in the manifest) only when asked.
    public func sources(includingRemoved: Bool = false) async throws(CoreError) -> [SourceReport] {
        let records: [SourceRecord]
        do { records = try await store.sources() } catch { throw CoreError(.storage, "the registry could not list sources (\(error.code.rawValue))") }
        let at = now()
        return records.filter { includingRemoved || $0.status != .removed }.map { SourceReport($0, now: at) }
    }

    /// One source by name (removed or not); `notFound` when the registry has never seen it.
    public func source(named name: String) async throws(CoreError) -> SourceReport {
        let record: SourceRecord?
        do { record = try await store.source(named: name) } catch {
            throw CoreError(.storage, "the registry could not look up source '\(name)' (\(error.code.rawValue))")
        }
        guard let record else { throw CoreError(.notFound, "no source '\(name)' in the registry") }
        return SourceReport(record, now: now())
    }
}
