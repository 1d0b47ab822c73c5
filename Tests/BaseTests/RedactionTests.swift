import Testing
@testable import Base

/// One redaction function for every string that reaches a trace, a log, a status or an error.
@Suite struct RedactionTests {
    @Test func everyRuleCompiles() {
        #expect(RedactionRules.all.count > 10)
    }

    @Test func keysThatNameSecretsAreRecognisedAsWholeWords() {
        for key in ["auth", "pass", "pwd", "jwt", "dsn", "private_key", "ssh_key", "signature", "otp", "X-Auth-Token",
                    "apiKey", "client_secret", "Authorization", "db_password", "sessionCookie", "passphrase"] {
            #expect(Redaction.isSecretKey(key), "\(key)")
        }
        for key in ["author", "compass", "path", "name", "passage", "description", "session_id", "keyboard"] {
            #expect(!Redaction.isSecretKey(key), "\(key)")
        }
    }

    @Test func theByteScanOfAnASCIIKeyFindsTheSameWordsAsTheUnicodeSplit() {
        let parts = ["auth", "Auth", "AUTH", "pin", "Pin", "sig", "x", "2", "author", "Pass", "pwd", "id", "_", "-", ".", " ", "/", ":", "$", "9a"]
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<5000 {
            let key = (0..<Int.random(in: 1...5, using: &generator)).map { _ in parts.randomElement(using: &generator)! }.joined()
            #expect(Redaction.hasSecretWord(ascii: key) == Redaction.words(of: key).contains { Redaction.secretKeyWords.contains($0) }, "\(key)")
        }
    }

    @Test func aKeyInAnotherScriptIsMatchedAfterUnicodeLowercasing() {
        #expect(Redaction.isSecretKey("TO\u{212A}EN"))          // the Kelvin sign lowercases to k
        #expect(Redaction.isSecretKey("Contraseña_password"))
        #expect(Redaction.isSecretKey("ＡＰＩ_token"))
        #expect(!Redaction.isSecretKey("café_name"))
    }

    @Test func credentialsInsideLongerTextAreHidden() {
        let secrets = [
            "ghp_" + String(repeating: "a1", count: 18),
            "github_pat_" + String(repeating: "B2", count: 20),
            "sk_live_" + String(repeating: "c3", count: 10),
            "sk-proj-" + String(repeating: "d4", count: 12),
            "xoxb-1234-5678-" + String(repeating: "e", count: 12),
            "AIza" + String(repeating: "F", count: 35),
            "npm_" + String(repeating: "g5", count: 18),
            "AKIA" + String(repeating: "H", count: 16),
            "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl",
            "ah_" + String(repeating: "Zx9", count: 14) + "q",
        ]
        for secret in secrets {
            let out = Redaction.text("the key is \(secret), keep it safe")
            #expect(!out.contains(secret), "\(secret) -> \(out)")
            #expect(out.hasPrefix("the key is ") && out.hasSuffix(", keep it safe"), "\(out)")
        }
        #expect(!Redaction.text("header: bearer abcdefghijkl123").contains("abcdefghijkl123"))
        #expect(!Redaction.text("Authorization: Basic dXNlcjpodW50ZXIy").contains("dXNlcjpodW50ZXIy"))
        let pem = "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXk\n-----END OPENSSH PRIVATE KEY-----"
        #expect(Redaction.text("key:\n" + pem + "\nend") == "key:\n[redacted]\nend")
    }

    @Test func urlCredentialsAreHiddenInEveryForm() {
        #expect(Redaction.url("https://user:tok3n@example.com/x.git") == "https://***@example.com/x.git")
        #expect(Redaction.url("https://example.com/x.git") == "https://example.com/x.git")
        #expect(Redaction.text("connect postgres://app:hunter2@db:5432/x now") == "connect postgres://***@db:5432/x now")
        #expect(Redaction.text("//user:pass@host/repo") == "//***@host/repo")
        #expect(Redaction.text("clone user:hunter2@example.com:org/repo.git") == "clone ***@example.com:org/repo.git")
        #expect(Redaction.text("git@github.com:org/repo.git") == "git@github.com:org/repo.git")
        let query = Redaction.url("https://example.com/x.git?access_token=s3cr3tvalue&ref=main")
        #expect(!query.contains("s3cr3tvalue") && query.contains("ref=main"), "\(query)")
        #expect(!Redaction.text("password=hunter2 user=bob").contains("hunter2"))
    }

    @Test func ordinaryTextIsLeftAlone() {
        for text in ["memory_get failed: no memory with id 42", "deploys freeze on Fridays", "see https://example.com/a@b",
                     "skills/lol: SKILL.md frontmatter has no description", "a basic understanding of tokens"] {
            #expect(Redaction.text(text) == text, "\(text)")
        }
    }

    @Test func jsonValuesUnderSecretKeysAndSecretStringsAreHidden() {
        let value: JSONValue = ["id": "ghp_abcdefghijklmnopqrstuvwxyz012345", "auth": "x", "nested": ["pwd": "p", "ok": "fine"]]
        let out = Redaction.value(value)
        #expect(out["id"]?.stringValue == "[redacted]")
        #expect(out["auth"]?.stringValue == "[redacted]")
        #expect(out["nested"]?["pwd"]?.stringValue == "[redacted]")
        #expect(out["nested"]?["ok"]?.stringValue == "fine")
    }
}
