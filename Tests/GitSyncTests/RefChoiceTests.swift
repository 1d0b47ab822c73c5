import Base
import Registry
import Testing
@testable import GitSync

@Suite struct SemverRangeTests {
    let tags = ["v0.9.0", "v1.0.0", "v1.2.0", "v1.4.2", "1.10.0", "v2.0.0", "v2.1.0-rc.1", "latest", "v3"]

    @Test(arguments: [
        ("^1.2", "1.10.0"), ("~1.2.0", "v1.2.0"), (">=1.0.0 <1.4", "v1.2.0"), ("1.x", "1.10.0"), ("*", "v2.0.0"),
        ("<1", "v0.9.0"), ("^0.9", "v0.9.0"), ("1.0.0 || 2", "v2.0.0"), ("1.4", "v1.4.2"), ("> 1.4.2 <2", "1.10.0"),
    ])
    func aRangePicksTheHighestMatchingReleaseTag(range: String, expected: String) throws {
        #expect(try SemverRange(range).highest(of: tags)?.tag == expected)
    }

    @Test func preReleaseAndNonVersionTagsAreNeverPicked() throws {
        #expect(try SemverRange(">=2.1.0").highest(of: tags) == nil)
    }

    @Test(arguments: [">=1.0 <0.5", ">=1.0 <1.0", ">1.0.0 <1.0.1", ">=2 <1 || >3 <=2"])
    func aRangeNoVersionCanSatisfyIsAConfigurationError(_ range: String) {
        #expect(throws: GitError.self) { try SemverRange(range) }
    }

    @Test(arguments: [">=1.0 <=1.0", ">=2 <1 || ^1.2", "^0", "*"])
    func aRangeSomeVersionCanSatisfyIsAccepted(_ range: String) throws {
        _ = try SemverRange(range)
    }

    @Test func anUnreadableRangeIsAConfigurationErrorNamingThePart() {
        #expect(throws: GitError(.config, "semver range '^1.2 banana': cannot read 'banana' (use forms like ^1.2, ~1.4.2, >=1.0.0 <2, 1.x)")) {
            try SemverRange("^1.2 banana")
        }
    }
}

@Suite struct RefChoiceTests {
    let refs = [
        RemoteRef(name: "HEAD", id: String(repeating: "a", count: 40), symrefTarget: "refs/heads/main"),
        RemoteRef(name: "refs/heads/main", id: String(repeating: "a", count: 40)),
        RemoteRef(name: "refs/heads/dev", id: String(repeating: "b", count: 40)),
        RemoteRef(name: "refs/tags/v1.0.0", id: String(repeating: "c", count: 40)),
        RemoteRef(name: "refs/tags/v1.0.0^{}", id: String(repeating: "d", count: 40)),
        RemoteRef(name: "refs/tags/v1.1.0", id: String(repeating: "e", count: 40)),
    ]

    @Test func theRemoteHeadIsTheBranchItNames() throws {
        let choice = try RefChoice.choose(.remoteHead, from: refs, url: "https://example.com/x.git")
        #expect(choice == RefChoice(remoteRef: "refs/heads/main", id: String(repeating: "a", count: 40), label: "main"))
    }

    @Test func aHeadNamingAMissingBranchIsNotFound() {
        let broken = [RemoteRef(name: "HEAD", id: String(repeating: "a", count: 40), symrefTarget: "refs/heads/gone")] + refs.dropFirst()
        #expect(throws: GitError(.notFound, "the HEAD of https://***@example.com/x.git names refs/heads/gone, which does not exist (branches: main, dev)")) {
            try RefChoice.choose(.remoteHead, from: broken, url: "https://user:token@example.com/x.git")
        }
    }

    @Test func aMissingBranchNamesTheBranchesThereAre() {
        #expect(throws: GitError(.notFound, "branch 'release' not found at /srv/x.git (branches: main, dev)")) {
            try RefChoice.choose(.branch("release"), from: refs, url: "/srv/x.git")
        }
    }

    @Test func aTagIsFetchedByItsOwnRefAndSemverByTheHighestMatch() throws {
        #expect(try RefChoice.choose(.tag("v1.0.0"), from: refs, url: "u").id == String(repeating: "c", count: 40))
        #expect(try RefChoice.choose(.semver("^1"), from: refs, url: "u").label == "v1.1.0")
        #expect(throws: GitError.self) { try RefChoice.choose(.semver("^2"), from: refs, url: "u") }
    }
}

@Suite struct GitURLTests {
    @Test(arguments: ["https://example.com/a.git", "ssh://git@example.com/a.git", "git://127.0.0.1:9418/a.git",
                      "file:///srv/a.git", "git@example.com:team/a.git"])
    func supportedURLsPassAsWritten(url: String) throws {
        #expect(try GitURL.check(url, resolvingPathsAgainst: "/tmp", source: "sources.x") == url)
    }

    @Test func badURLsAreConfigurationErrorsThatNeverShowCredentials() {
        #expect(throws: GitError(.config, "sources.x.git 'ftp://***@example.com/a' has the unsupported scheme 'ftp' (use https, ssh, git, file or a path)")) {
            try GitURL.check("ftp://u:secret@example.com/a", resolvingPathsAgainst: "/tmp", source: "sources.x")
        }
        #expect(throws: GitError(.config, "sources.x.git 'https:///a.git' has no host")) {
            try GitURL.check("https:///a.git", resolvingPathsAgainst: "/tmp", source: "sources.x")
        }
        #expect(throws: GitError(.notFound, "sources.x.git: the repository /tmp/no/such/repo.git does not exist")) {
            try GitURL.check("no/such/repo.git", resolvingPathsAgainst: "/tmp", source: "sources.x")
        }
    }

    @Test func redactionRemovesUserInfoAndSecrets() {
        #expect(Redaction.url("https://user:tok3n@example.com/x.git") == "https://***@example.com/x.git")
        #expect(Redaction.text("fetch https://u:p@h/x failed") == "fetch https://***@h/x failed")
        #expect(Redaction.removing(["hunter22"], from: "bad hunter22") == "bad ***")
    }
}
