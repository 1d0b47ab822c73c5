import Foundation
import Testing
@testable import Plugins

/// The small parts of the OAuth client: sealing, which metadata may speak for which server, and
/// reading a challenge.
@Suite struct OAuthPartsTests {
    static let credential = RemoteCredential(accessToken: "at-secret", refreshToken: "rt-secret", expiresAt: Date(timeIntervalSince1970: 2_000_000_000),
                                             scope: "mcp", tokenEndpoint: "https://as.example.com/token", revocationEndpoint: nil,
                                             clientId: "client", clientSecret: nil, clientAuth: "none", resource: "https://mcp.example.com/mcp",
                                             issuer: "https://as.example.com", obtainedAt: Date(timeIntervalSince1970: 1_900_000_000))

    @Test func aSealedLoginOpensOnlyWithItsKeyForItsServerAndAgent() throws {
        let sealer = CredentialSealer(secret: Data(String(repeating: "a", count: 32).utf8))
        let sealed = try sealer.seal(Self.credential, server: "docs", agent: "ada")
        #expect(!sealed.contains("secret"))
        #expect(try sealer.open(sealed, server: "docs", agent: "ada") == Self.credential)
        #expect(throws: (any Error).self) { try sealer.open(sealed, server: "docs", agent: "bob") }
        #expect(throws: (any Error).self) { try sealer.open(sealed, server: "other", agent: "ada") }
        let other = CredentialSealer(secret: Data(String(repeating: "b", count: 32).utf8))
        #expect(throws: (any Error).self) { try other.open(sealed, server: "docs", agent: "ada") }
        var tampered = Array(sealed.utf8)
        tampered[tampered.count / 2] = tampered[tampered.count / 2] == UInt8(ascii: "A") ? UInt8(ascii: "B") : UInt8(ascii: "A")
        #expect(throws: (any Error).self) { try sealer.open(String(decoding: tampered, as: UTF8.self), server: "docs", agent: "ada") }
    }

    @Test func metadataSpeaksOnlyForItsOwnOriginAndPath() {
        #expect(OAuthClient.covers(resource: "https://mcp.example.com/mcp", url: "https://mcp.example.com/mcp"))
        #expect(OAuthClient.covers(resource: "https://mcp.example.com", url: "https://mcp.example.com/mcp"))
        #expect(OAuthClient.covers(resource: "https://MCP.example.com:443/mcp", url: "https://mcp.example.com/mcp"))
        #expect(!OAuthClient.covers(resource: "https://evil.example.com/mcp", url: "https://mcp.example.com/mcp"))
        #expect(!OAuthClient.covers(resource: "http://mcp.example.com/mcp", url: "https://mcp.example.com/mcp"))
        #expect(!OAuthClient.covers(resource: "https://mcp.example.com/other", url: "https://mcp.example.com/mcp"))
        #expect(!OAuthClient.covers(resource: "https://mcp.example.com/mc", url: "https://mcp.example.com/mcp"))
    }

    @Test func aChallengeNamesItsResourceMetadata() {
        let challenge = #"Bearer error="invalid_token", resource_metadata="http://127.0.0.1:1/.well-known/oauth-protected-resource/mcp", scope="mcp""#
        #expect(OAuthClient.parameter("resource_metadata", in: challenge) == "http://127.0.0.1:1/.well-known/oauth-protected-resource/mcp")
        #expect(OAuthClient.parameter("scope", in: challenge) == "mcp")
        #expect(OAuthClient.parameter("realm", in: challenge) == nil)
        #expect(OAuthClient.formEscape("a b&c=d/é") == "a%20b%26c%3Dd%2F%C3%A9")
    }
}
