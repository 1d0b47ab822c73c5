import Foundation
import Testing
@testable import HTTPFront

/// A skill's body is written by whoever publishes the repository: the console renders its Markdown
/// and never lets its HTML act.
@Suite struct SkillMarkdownTests {
    /// Markup that would run script, load a frame, restyle the page or leave its box if it passed.
    static let hostile: [String] = [
        "<script>window.__pwned = 1</script>",
        "<SCRIPT SRC=//evil.example/x.js></SCRIPT>",
        "<scr<script>ipt>alert(1)</script>",
        "<img src=x onerror=alert(1)>",
        "<img src=\"javascript:alert(1)\">",
        "[click](javascript:alert(1))",
        "[click](JaVaScRiPt:alert(1))",
        "[click](  javascript:alert(1))",
        "<a href=\"jav&#x61;script:alert(1)\">x</a>",
        "<a href=\"jav&#97;script&colon;alert(1)\">x</a>",
        "<a href=\"java\tscript:alert(1)\">x</a>",
        "<a href=\"data:text/html,<script>alert(1)</script>\">x</a>",
        "<a href=\"vbscript:msgbox(1)\">x</a>",
        "<iframe src=\"https://evil.example\"></iframe>",
        "<object data=x></object><embed src=x>",
        "<style>body{display:none}</style>",
        "<svg onload=alert(1)><circle/></svg>",
        "<math><mtext><script>alert(1)</script></mtext></math>",
        "<form action=https://evil.example><input name=k></form>",
        "<meta http-equiv=refresh content=\"0;url=https://evil.example\">",
        "<base href=https://evil.example/>",
        "<link rel=stylesheet href=https://evil.example/x.css>",
        "<p style=\"background:url(javascript:alert(1))\" onclick=\"alert(1)\">styled</p>",
        "<div><p>unclosed <strong>bold <a href=https://ok.example>link",
        "</article></main><script>alert(1)</script>",
        "<!-- <script>alert(1)</script> -->after",
        "<!--<script>alert(1)</script>",
        "<a href='https://ok.example' onmouseover='alert(1)'>x</a>",
        "<a href=https://ok.example\"onmouseover=alert(1)>x</a>",
        "<td align=\"left\" onclick=\"alert(1)\">cell</td>",
        "<img src=\"https://ok.example/x.png\" alt=\"x\" onerror=\"alert(1)\">",
        "```\n<script>alert(1)</script>\n```",
        "`<script>alert(1)</script>`",
        "<scRipt\n>alert(1)</script\n>",
        "<<script>>alert(1)<</script>>",
        "<a/href=javascript:alert(1)>x</a>",
        "<img/src=x/onerror=alert(1)>",
    ]

    /// The tags a browser would act on, found in the output as tags (not as escaped text).
    static func liveTags(_ html: String) -> [String] {
        let pattern = #"<\s*/?\s*(script|iframe|object|embed|style|svg|math|form|input|meta|base|link|div|article|main)\b"#
        let regex = try! NSRegularExpression(pattern: pattern, options: [.caseInsensitive])
        return regex.matches(in: html, range: NSRange(html.startIndex..., in: html)).map { (html as NSString).substring(with: $0.range) }
    }

    @Test(arguments: hostile)
    func hostileMarkupIsShownAsTextAndNeverActs(_ markdown: String) {
        let html = SkillMarkdown.html(markdown)
        #expect(Self.liveTags(html).isEmpty, "live tags in: \(html)")
        #expect(html.range(of: #"<[^>]*\son[a-z]+\s*="#, options: [.regularExpression, .caseInsensitive]) == nil,
                "an event handler attribute survived: \(html)")
        for href in Self.attributes("href", in: html) + Self.attributes("src", in: html) {
            let lowered = href.lowercased()
            #expect(!lowered.contains("javascript") && !lowered.hasPrefix("data:") && !lowered.hasPrefix("vbscript"), "unsafe URL \(href) in \(html)")
        }
        #expect(html.range(of: #"<[^>]*\sstyle\s*="#, options: [.regularExpression, .caseInsensitive]) == nil, "a style attribute survived: \(html)")
    }

    /// Every value of `name="…"` in tags of the output (the sanitiser always writes double quotes).
    static func attributes(_ name: String, in html: String) -> [String] {
        let regex = try! NSRegularExpression(pattern: "<[^>]*\\s\(name)=\"([^\"]*)\"")
        return regex.matches(in: html, range: NSRange(html.startIndex..., in: html)).map { (html as NSString).substring(with: $0.range(at: 1)) }
    }

    @Test func markdownStillRendersHeadingsListsLinksCodeAndTables() {
        let html = SkillMarkdown.html("""
            # Title

            Some **bold**, *em* and `code`; a [link](https://example.com/a?b=1&c=2) and a [relative one](docs/usage.md).

            - one
            - two

            ```swift
            let x = 1 < 2
            ```

            | a | b |
            |---|---|
            | 1 | 2 |
            """)
        #expect(html.contains("<h1>Title</h1>"))
        #expect(html.contains("<strong>bold</strong>") && html.contains("<em>em</em>") && html.contains("<code>code</code>"))
        #expect(html.contains("href=\"https://example.com/a?b=1&amp;c=2\""), "\(html)")
        #expect(html.contains("href=\"docs/usage.md\""))
        #expect(html.contains("<ul><li>one</li><li>two</li></ul>"))
        #expect(html.contains("1 &lt; 2"), "code is escaped text: \(html)")
        #expect(html.contains("<table>") && html.contains("<td"), "\(html)")
        #expect(html.contains("rel=\"nofollow noopener noreferrer\""))
    }

    @Test func aSchemeRelativeLinkLeavesNoHrefWhateverSlashesItUses() {
        for link in ["//evil.example/x", "\\\\evil.example", "/\\evil.example", "&#47;/evil.example", " //evil.example"] {
            #expect(!HTMLSanitizer.safeURL(link), "\(link)")
        }
        let html = HTMLSanitizer.clean("<p><a href=\"//evil.example/steal\">docs</a></p>")
        #expect(!html.contains("evil.example"), "\(html)")
        #expect(HTMLSanitizer.safeURL("/skills/pdf") && HTMLSanitizer.safeURL("docs/usage.md") && HTMLSanitizer.safeURL("#top"))
    }

    @Test func theSanitiserClosesWhatIsOpenAndDropsStrayClosingTags() {
        // Raw HTML never reaches it from a body (it is text by then); this is the wall behind that one.
        let html = HTMLSanitizer.clean("<p><strong>bold <em>and more")
        #expect(html == "<p><strong>bold <em>and more</em></strong></p>", "\(html)")
        let stray = HTMLSanitizer.clean("text</p></li></ul></table></main>more")
        #expect(stray == "text&lt;/main&gt;more", "a tag not on the list is text: \(stray)")
        let script = HTMLSanitizer.clean("<p>a<script>alert(1)</script><a href=\"javascript:x\" onclick=\"y\">l</a></p>")
        #expect(script == "<p>a&lt;script&gt;alert(1)&lt;/script&gt;<a rel=\"nofollow noopener noreferrer\">l</a></p>", "\(script)")
    }

    @Test func aBodyOpeningWithARuleRendersTheRuleInsteadOfTrappingInk() {
        // Each of these traps Ink 0.6.0 as given (found by rendering truncated real Markdown files).
        #expect(SkillMarkdown.html("---\nabc") == "<hr><p>abc</p>")
        #expect(SkillMarkdown.html("\n\n---\n\nname") == "<hr><p>name</p>")
        #expect(SkillMarkdown.html("- a\n  - b\n   ").contains("<li>a"))
    }

    @Test func rawHTMLInABodyIsShownAsTextWhereverItStands() {
        #expect(SkillMarkdown.html("<strong>x</strong> <p") == "<p>&lt;strong&gt;x&lt;/strong&gt; &lt;p</p>")
        #expect(SkillMarkdown.html("```\n<b>\n```").contains("&lt;b&gt;"))
    }

    @Test func aHugeBodyIsShownAsEscapedTextWithoutRendering() {
        let body = String(repeating: "<script>x</script> ", count: SkillMarkdown.maxRenderedBytes / 10)
        let html = SkillMarkdown.html(body)
        #expect(html.hasPrefix("<pre class=\"plain-body\">") && !html.contains("<script"))
    }

    @Test func randomBytesNeverCrashTheRendererOrLeaveLiveTags() {
        var generator = SystemRandomNumberGenerator()
        let alphabet = Array("<>/=\"' \n\t&#;:-`*_[]()!abcdefghijklmnopqrstuvwxyzSCRIPTscriptonerrorhrefjavascript")
        for _ in 0..<300 {
            let length = Int.random(in: 0..<200, using: &generator)
            let text = String((0..<length).map { _ in alphabet.randomElement(using: &generator)! })
            let html = SkillMarkdown.html(text)
            #expect(Self.liveTags(html).isEmpty, "input \(text.debugDescription) gave \(html)")
        }
    }

    @Test func formsSplitOnAmpersandsAndDecodePlusAndPercent() {
        let fields = ConsoleForm.parse("csrf=a%2Bb&reason=not+today%21&empty=&csrf=second&=x")
        #expect(fields["csrf"] == "a+b")
        #expect(fields["reason"] == "not today!")
        #expect(fields["empty"] == "")
        #expect(fields.count == 3)
    }

    @Test func signInOnlyReturnsToAPathOnThisHost() {
        #expect(WebConsole.safeNext("/skills?q=x") == "/skills?q=x")
        for bad in ["//evil.example/", "https://evil.example/", "/\\evil.example", "javascript:alert(1)", "/login?next=/", "", nil] as [String?] {
            #expect(WebConsole.safeNext(bad) == "/", "\(bad ?? "nil")")
        }
    }

    @Test func tokensAreComparedWholeAndEmptyNeverMatches() {
        let token = ConsoleSessions.token()
        #expect(token.count >= 43)
        #expect(ConsoleSessions.same(token, token))
        #expect(!ConsoleSessions.same(token, String(token.dropLast())))
        #expect(!ConsoleSessions.same("", ""))
    }
}
