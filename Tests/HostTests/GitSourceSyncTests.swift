import Foundation
import GitSync
import Registry
import Testing
import TestSupport
@testable import Host

/// Git sources against real repositories: a local bare repository pushed to by the git CLI.
@Suite struct GitSourceSyncTests {
    @Test func skillsArePublishedFromTheFetchedCommitsTreeAsRefAtCommit() async throws {
        try await withTemporaryDirectory { root in
            let repo = try GitRemoteFixture(root: root + "/origin")
            try repo.skill("skills/alpha")
            try repo.skill("skills/beta", description: "Second skill.")
            try repo.file("skills/beta/notes/guide.md", "# Guide\n")
            let commit = try repo.commitAndPush("two skills")
            let context = try gitContext(root: root, url: repo.remote)

            let result = await context.syncer.syncTeam()
            #expect(result.outcome == .published, "\(result.message ?? "")")
            #expect(result.revision == "main@\(commit)")
            #expect(result.downloaded == true)
            let skills = try context.db.skills(inSource: "team")
            #expect(skills.map(\.name).sorted() == ["alpha", "beta"])
            // The digest is the git tree id of the skill directory, after the storage format.
            let betaTree = try repo.git(["rev-parse", "HEAD:skills/beta"])
            #expect(skills.first { $0.name == "beta" }?.digest == SkillDiscovery.storageFormat + betaTree)
            let source = try #require(try context.db.source(named: "team"))
            #expect(source.status == .ready)
            #expect(source.commit == commit)
            #expect(source.revision == "main@\(commit)")
            #expect(source.loadableCount == 2)
            // The cache is a bare repository; nothing was checked out.
            let cache = context.syncer.cacheRepository(of: context.manifest.source(named: "team")!)
            #expect(try GitRepository.open(cache).isBare)
            #expect(!FileManager.default.fileExists(atPath: cache + "/skills"))
        }
    }

    @Test func aResyncWithNothingNewDownloadsNothingAndWritesNothingToTheRegistry() async throws {
        try await withTemporaryDirectory { root in
            let repo = try GitRemoteFixture(root: root + "/origin")
            try repo.skill("alpha")
            try repo.commitAndPush()
            let context = try gitContext(root: root, url: repo.remote)
            #expect(await context.syncer.syncTeam().outcome == .published)
            let before = try context.db.source(named: "team")
            let runsBefore = try context.db.syncRuns(of: "team").count
            let skillsBefore = try context.db.skills(inSource: "team")

            let again = await context.syncer.syncTeam()
            #expect(again.outcome == .unchanged)
            #expect(again.downloaded == false)
            let after = try context.db.source(named: "team")
            #expect(after?.revision == before?.revision)
            #expect(after?.lastAttemptAt == before?.lastAttemptAt)
            #expect(try context.db.syncRuns(of: "team").count == runsBefore)
            #expect(try context.db.skills(inSource: "team") == skillsBefore)
            #expect(after?.lastCheckedAt != nil)
        }
    }

    @Test func aNewCommitUpdatesChangedSkillsAndTombstonesVanishedOnes() async throws {
        try await withTemporaryDirectory { root in
            let repo = try GitRemoteFixture(root: root + "/origin")
            for name in ["a", "b", "c", "d"] { try repo.skill(name) }
            try repo.commitAndPush()
            let context = try gitContext(root: root, url: repo.remote)
            #expect(await context.syncer.syncTeam().outcome == .published)

            try repo.skill("a", description: "Changed.")
            try repo.remove("d")
            let second = try repo.commitAndPush()
            let result = await context.syncer.syncTeam()
            #expect(result.outcome == .published)
            #expect(result.report?.updated == 1)
            #expect(result.report?.removed == 1)
            #expect(result.report?.unchanged == 2)
            let source = try #require(try context.db.source(named: "team"))
            #expect(source.revision == "main@\(second)")
            #expect(source.tombstonedCount == 1)
            #expect(try context.db.skill(named: "a")?.description == "Changed.")
        }
    }

    @Test func aForcePushOfUnrelatedHistoryIsPublishedAndTheMassDeletionGuardHoldsIt() async throws {
        try await withTemporaryDirectory { root in
            let repo = try GitRemoteFixture(root: root + "/origin")
            for name in ["a", "b", "c"] { try repo.skill(name) }
            let first = try repo.commitAndPush()
            let context = try gitContext(root: root, url: repo.remote)
            #expect(await context.syncer.syncTeam().outcome == .published)

            // Unrelated history: an orphan branch with one different skill, force-pushed over main.
            try repo.git(["checkout", "-q", "--orphan", "rewrite"])
            try repo.git(["rm", "-rqf", "."])
            try repo.skill("z")
            try repo.commitAndPush("unrelated")
            let held = await context.syncer.syncTeam()
            #expect(held.outcome == .held)
            let source = try #require(try context.db.source(named: "team"))
            #expect(source.status == .suspect)
            #expect(source.revision == "main@\(first)")
            #expect(try context.db.servableSkills().map(\.name).sorted() == ["a", "b", "c"])

            let accepted = await context.syncer.syncTeam(acceptRemovals: true)
            #expect(accepted.outcome == .published)
            #expect(try context.db.servableSkills().map(\.name) == ["z"])
        }
    }

    @Test func aSourceThatSuddenlyHasNoSkillsIsHeldAndTheLastRevisionStaysServed() async throws {
        try await withTemporaryDirectory { root in
            let repo = try GitRemoteFixture(root: root + "/origin")
            try repo.skill("a")
            try repo.skill("b")
            try repo.commitAndPush()
            let context = try gitContext(root: root, url: repo.remote)
            #expect(await context.syncer.syncTeam().outcome == .published)
            try repo.remove("a")
            try repo.remove("b")
            try repo.file("README.md", "nothing here\n")
            try repo.commitAndPush()
            #expect(await context.syncer.syncTeam().outcome == .held)
            #expect(try context.db.servableSkills().count == 2)
        }
    }

    @Test func aDeletedBranchFailsAsNotFoundAndKeepsTheLastGoodRevision() async throws {
        try await withTemporaryDirectory { root in
            let repo = try GitRemoteFixture(root: root + "/origin")
            try repo.skill("a")
            let commit = try repo.commitAndPush(branch: "release")
            let context = try gitContext(root: root, url: repo.remote, extra: "ref: { branch: release }")
            #expect(await context.syncer.syncTeam().outcome == .published)

            try repo.git(["push", "-q", repo.remote, ":refs/heads/release"])
            let failed = await context.syncer.syncTeam()
            #expect(failed.outcome == .failed)
            #expect(failed.failureKind == .notFound)
            #expect(failed.message?.contains("branch 'release' not found") == true)
            let source = try #require(try context.db.source(named: "team"))
            #expect(source.status == .failed)
            #expect(source.failureKind == "not found")
            #expect(source.consecutiveFailures == 1)
            #expect(source.revision == "release@\(commit)")
            #expect(try context.db.servableSkills().map(\.name) == ["a"])
        }
    }

    @Test func aRemoteHeadNamingAMissingBranchIsNotFoundNotAnEmptySource() async throws {
        try await withTemporaryDirectory { root in
            let repo = try GitRemoteFixture(root: root + "/origin")
            try repo.skill("a")
            try repo.commitAndPush()
            try GitRemoteFixture.git(["symbolic-ref", "HEAD", "refs/heads/gone"], in: repo.remote)
            let context = try gitContext(root: root, url: repo.remote)
            let result = await context.syncer.syncTeam()
            #expect(result.outcome == .failed)
            #expect(result.failureKind == .notFound)
            #expect(result.message?.contains("HEAD") == true)
            #expect(try context.db.servableSkills().isEmpty)
        }
    }

    @Test func anAbsentPinnedCommitStallsTheSourceUntilItsEntryChanges() async throws {
        try await withTemporaryDirectory { root in
            let repo = try GitRemoteFixture(root: root + "/origin")
            try repo.skill("a")
            let commit = try repo.commitAndPush()
            let absent = String(repeating: "ab", count: 20)
            let context = try gitContext(root: root, url: repo.remote, extra: "ref: { commit: \(absent) }")
            let stalled = await context.syncer.syncTeam()
            #expect(stalled.outcome == .stalled)
            #expect(stalled.failureKind == .config)
            #expect(stalled.message?.contains("pinned commit \(absent) is not in") == true)
            #expect(try context.db.source(named: "team")?.status == .stalled)

            // The scheduler does not retry blindly: nothing is fetched, no run is recorded.
            let workers = WorkerLog()
            var syncer = context.syncer
            syncer.onWorkerStarted = workers.record
            let runs = try context.db.syncRuns(of: "team").count
            #expect(await syncer.syncTeam(force: false).outcome == .stalled)
            #expect(workers.pids.isEmpty)
            #expect(try context.db.syncRuns(of: "team").count == runs)

            // A changed entry (the right pin, abbreviated) is tried again and publishes.
            let fixed = try gitContext(root: root, url: repo.remote, extra: "ref: { commit: \(commit.prefix(10)) }")
            let published = await fixed.syncer.syncTeam(force: false)
            #expect(published.outcome == .published, "\(published.message ?? "")")
            #expect(published.revision == "\(commit.prefix(10))@\(commit)")
            // A pin already in the cache needs no network: the worker answers from the cache.
            #expect(await fixed.syncer.syncTeam().downloaded == false)
        }
    }

    @Test func aSemverRangeFollowsTheHighestMatchingTag() async throws {
        try await withTemporaryDirectory { root in
            let repo = try GitRemoteFixture(root: root + "/origin")
            var commits: [String: String] = [:]
            for (tag, description) in [("v1.0.0", "one"), ("v1.4.2", "one four"), ("v2.0.0", "two"), ("v1.5.0-rc.1", "rc")] {
                try repo.skill("a", description: "Version \(description).")
                commits[tag] = try repo.commitAndPush(tag)
                try repo.git(["tag", "-a", tag, "-m", tag])
                try repo.git(["push", "-q", repo.remote, "refs/tags/\(tag)"])
            }
            let context = try gitContext(root: root, url: repo.remote, extra: "ref: { semver: \"^1.2\" }")
            let result = await context.syncer.syncTeam()
            #expect(result.outcome == .published, "\(result.message ?? "")")
            #expect(result.revision == "v1.4.2@\(commits["v1.4.2"]!)")
            #expect(try context.db.skill(named: "a")?.description == "Version one four.")
        }
    }

    @Test func badSkillsAreRecordedNextToGoodOnesWhichStillPublish() async throws {
        try await withTemporaryDirectory { root in
            let repo = try GitRemoteFixture(root: root + "/origin")
            try repo.skill("skills/good")
            try repo.file("skills/broken/SKILL.md", "---\nname: [unclosed\n---\n")
            try repo.skill("skills/dup-one", name: "same-name")
            try repo.skill("skills/dup-two", name: "same-name")
            try repo.skill("skills/linked")
            try FileManager.default.createSymbolicLink(atPath: repo.work + "/skills/linked/passwd", withDestinationPath: "/etc/passwd")
            try repo.skill("skills/huge")
            try Data(count: 60 << 20).write(to: URL(fileURLWithPath: repo.work + "/skills/huge/blob.bin"))
            try repo.skill("a/b/c/d/e/f/g/h/deep")
            try repo.commitAndPush()
            let context = try gitContext(root: root, url: repo.remote)

            let result = await context.syncer.syncTeam()
            #expect(result.outcome == .published, "\(result.message ?? "")")
            let skills = try context.db.skills(inSource: "team")
            #expect(skills.first { $0.path == "skills/good" }?.loadable == true)
            #expect(skills.first { $0.path == "skills/broken" }?.loadable == false)
            #expect(!skills.contains { $0.path.hasSuffix("deep") })  // past max_depth 6: not searched
            let source = try #require(try context.db.source(named: "team"))
            #expect(source.shadowedCount == 1)

            let linked = try #require(skills.first { $0.path == "skills/linked" })
            let link = try #require(try context.db.files(ofSkill: linked.id).first { $0.path == "passwd" })
            #expect(link.kind == .symlink)
            #expect(link.linkTarget == "/etc/passwd")
            #expect(link.content == nil)

            let huge = try #require(skills.first { $0.path == "skills/huge" })
            let blob = try #require(try context.db.files(ofSkill: huge.id).first { $0.path == "blob.bin" })
            #expect(blob.size == 60 << 20)
            #expect(blob.content == nil)
            #expect(huge.loadable)
        }
    }

    @Test func aSuspendedSourceKeepsServingWhatItHasAndIsNotFetched() async throws {
        try await withTemporaryDirectory { root in
            let repo = try GitRemoteFixture(root: root + "/origin")
            try repo.skill("a")
            let commit = try repo.commitAndPush()
            #expect(await (try gitContext(root: root, url: repo.remote)).syncer.syncTeam().outcome == .published)
            try repo.skill("b")
            try repo.commitAndPush()

            let suspended = try gitContext(root: root, url: repo.remote, extra: "suspend: true")
            let workers = WorkerLog()
            var syncer = suspended.syncer
            syncer.onWorkerStarted = workers.record
            #expect(await syncer.syncTeam().outcome == .suspended)
            #expect(workers.pids.isEmpty)
            let source = try #require(try suspended.db.source(named: "team"))
            #expect(source.status == .suspended)
            #expect(source.revision == "main@\(commit)")
            #expect(try suspended.db.servableSkills().map(\.name) == ["a"])

            // Lifting the suspension syncs again.
            let resumed = try gitContext(root: root, url: repo.remote)
            #expect(await resumed.syncer.syncTeam().outcome == .published)
            #expect(try resumed.db.servableSkills().map(\.name).sorted() == ["a", "b"])
        }
    }
}
