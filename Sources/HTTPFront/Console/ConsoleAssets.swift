import Base
import Core
import Crypto
import Foundation
import Hummingbird

/// The console's stylesheet and its one script, served from memory with an ETag. The script only adds
/// the live parts (the events tail and the approvals page following the event stream); every page
/// reads the same without it.
enum ConsoleAssets {
    static func response(_ text: String, type: String) -> Response {
        Response(status: .ok, headers: [.contentType: "\(type); charset=utf-8", .cacheControl: "no-cache", .eTag: etag(text)],
                 body: ResponseBody(byteBuffer: ByteBuffer(string: text)))
    }

    static func etag(_ text: String) -> String {
        "\"" + SHA256.hash(data: Data(text.utf8)).prefix(8).map { String(format: "%02x", $0) }.joined() + "\""
    }

    static let css = """
        :root { --fg: #1d2430; --muted: #5b6474; --bg: #fbfbfc; --line: #d9dde5; --accent: #2357c6; --good: #1f7a3f; --warn: #9a6400; --bad: #b3261e;
                --card: #fff; font-family: system-ui, -apple-system, "Segoe UI", sans-serif; font-size: 15px; line-height: 1.45; color: var(--fg); background: var(--bg); }
        * { box-sizing: border-box; }
        body { margin: 0; }
        a { color: var(--accent); }
        :focus-visible { outline: 3px solid #f0b400; outline-offset: 2px; }
        .skip { position: absolute; left: -999px; top: 0; background: #fff; padding: .5em; }
        .skip:focus { left: .5em; z-index: 10; }
        .sr { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; }
        header.top { display: flex; flex-wrap: wrap; align-items: center; gap: .5em 1.2em; padding: .6em 1.2em; background: #16213a; color: #fff; }
        header.top a { color: #fff; text-decoration: none; }
        .brand { font-weight: 700; font-size: 1.1em; }
        nav ul { display: flex; flex-wrap: wrap; gap: .2em .9em; list-style: none; margin: 0; padding: 0; }
        nav a { padding: .2em .1em; border-bottom: 2px solid transparent; }
        nav a[aria-current="page"] { border-bottom-color: #f0b400; }
        .badge { margin-left: .3em; background: #f0b400; color: #16213a; border-radius: 1em; padding: 0 .5em; font-size: .8em; font-weight: 700; }
        .signout { margin-left: auto; display: flex; align-items: center; gap: .6em; }
        .who { opacity: .85; font-size: .9em; }
        main { padding: 1em 1.2em 3em; max-width: 1200px; margin: 0 auto; }
        main.narrow { max-width: 440px; margin-top: 8vh; }
        h1 { font-size: 1.5em; margin: .3em 0 .6em; } h2 { font-size: 1.15em; margin: 1.4em 0 .5em; } h3 { font-size: 1em; margin: 0 0 .4em; }
        table { border-collapse: collapse; width: 100%; background: var(--card); }
        th, td { text-align: left; vertical-align: top; padding: .4em .6em; border-bottom: 1px solid var(--line); }
        th { font-size: .85em; color: var(--muted); font-weight: 600; }
        .scroll { overflow-x: auto; position: relative; border: 1px solid var(--line); border-radius: 6px; }
        code, pre { font-family: ui-monospace, "SFMono-Regular", Menlo, monospace; font-size: .88em; }
        pre { background: #f1f3f7; padding: .7em; border-radius: 6px; overflow-x: auto; white-space: pre-wrap; word-break: break-word; }
        .detail code { word-break: break-all; color: var(--muted); }
        h1, .crumbs, #task-live p { overflow-wrap: anywhere; }
        .pill { display: inline-block; border-radius: 1em; padding: 0 .6em; font-size: .8em; font-weight: 600; border: 1px solid currentColor; }
        .good { color: var(--good); } .warn { color: var(--warn); } .bad { color: var(--bad); }
        tr.failed td:nth-child(3), tr.blocked td:nth-child(3) { color: var(--bad); font-weight: 600; }
        tr.fresh { animation: fresh 2s ease-out; }
        @keyframes fresh { from { background: #fff4c2; } to { background: transparent; } }
        .flash { padding: .6em .8em; border-radius: 6px; border: 1px solid var(--line); background: #fff; }
        .flash.ok { border-color: var(--good); } .flash.error { border-color: var(--bad); color: var(--bad); }
        .empty, .muted { color: var(--muted); }
        .facts { display: grid; grid-template-columns: max-content 1fr; gap: .3em 1em; margin: 0; }
        .facts dt { color: var(--muted); } .facts dd { margin: 0; min-width: 0; overflow-wrap: anywhere; }
        .errors { color: var(--bad); margin: .3em 0; padding-left: 1.2em; } .warnings { color: var(--warn); margin: .3em 0; padding-left: 1.2em; }
        .filters { display: flex; flex-wrap: wrap; align-items: center; gap: .4em .6em; margin-bottom: 1em; }
        .stack { display: flex; flex-direction: column; gap: .5em; }
        input, select, button, .button { font: inherit; padding: .35em .6em; border: 1px solid var(--line); border-radius: 5px; background: #fff; color: var(--fg); }
        button, .button { cursor: pointer; background: #eef2fb; border-color: #b9c6e6; text-decoration: none; }
        button.good { background: #e6f4ea; border-color: var(--good); color: var(--good); }
        button.bad { background: #fbeaea; border-color: var(--bad); color: var(--bad); }
        header.top button { background: transparent; color: #fff; border-color: #5b6b8f; }
        .cards { list-style: none; padding: 0; display: grid; gap: .6em; }
        .cards li, .card { background: var(--card); border: 1px solid var(--line); border-radius: 6px; padding: .7em .9em; }
        .cards p { margin: .3em 0; }
        .cards .title { font-weight: 600; }
        .card { margin-bottom: .8em; }
        .answer { display: flex; flex-wrap: wrap; gap: .6em 1.2em; }
        form.inline { display: flex; flex-wrap: wrap; align-items: center; gap: .4em; }
        .plain { list-style: none; padding: 0; } .plain li { margin: .2em 0; }
        .split { display: grid; grid-template-columns: minmax(0, 2fr) minmax(0, 1fr); gap: 1.5em; }
        .markdown { background: var(--card); border: 1px solid var(--line); border-radius: 6px; padding: .4em 1.2em; min-width: 0; overflow-wrap: anywhere; }
        .markdown img { max-width: 100%; }
        .lead { font-size: 1.05em; }
        .crumbs { color: var(--muted); margin: 0; }
        .timeline { list-style: none; padding: 0; border-left: 3px solid var(--line); }
        .timeline li { padding: .3em .8em; margin: .2em 0; } .timeline li.bad { border-left: 3px solid var(--bad); margin-left: -3px; }
        .timeline .time { color: var(--muted); font-family: ui-monospace, monospace; }
        .count { color: var(--muted); font-weight: 400; }
        .created pre.key { font-size: 1em; background: #fff8dc; }
        @media (max-width: 720px) {
          :root { font-size: 14px; }
          .split { grid-template-columns: 1fr; }
          .signout { margin-left: 0; width: 100%; justify-content: space-between; }
          main { padding: .8em .7em 2em; }
          .filters > * { flex: 1 1 40%; }
        }
        """

    static let js = """
        // AgentHub console: the live parts. Pages read the same without this script.
        "use strict";
        (function () {
          function cell(text, cls) { var td = document.createElement("td"); if (cls) td.className = cls; td.textContent = text == null ? "" : String(text); return td; }
          function code(text) { var td = document.createElement("td"); var c = document.createElement("code"); c.textContent = text || ""; td.appendChild(c); return td; }
          function outcome(type) {
            if (type === "tool.result" || type === "approval.granted") return "ok";
            if (type === "tool.failed" || type === "error" || type === "approval.expired" || type === "approval.withdrawn") return "failed";
            if (type === "tool.blocked" || type === "approval.denied" || type === "tool.name_collision") return "blocked";
            return "";
          }
          function follow(url, onEvent, state) {
            if (!window.EventSource) return null;
            var source = new EventSource(url);
            source.onopen = function () { if (state) state.textContent = "Live: new events appear at the top."; };
            source.onerror = function () { if (state) state.textContent = "Reconnecting to the live tail…"; };
            source.onmessage = onEvent;
            var types = \(JSONValue.array(TraceEvent.knownTypes.map { .string($0) }).jsonText);
            types.forEach(function (t) { source.addEventListener(t, onEvent); });
            // The host ends a stream whose key was revoked (or whose session ended) with `end`: stop, do not reconnect.
            source.addEventListener("end", function (e) {
              source.close();
              var why = ""; try { why = JSON.parse(e.data).reason || ""; } catch (x) {}
              if (state) state.textContent = "The live tail ended" + (why ? ": " + why : "") + ". Reload the page to sign in again.";
            });
            window.addEventListener("pagehide", function () { source.close(); });
            return source;
          }
          function eventsTail() {
            var table = document.getElementById("event-tail");
            if (!table || !table.dataset.stream) return;
            var body = table.tBodies[0], state = document.getElementById("tail-state");
            var seen = {};
            Array.prototype.forEach.call(body.rows, function (r) { seen[r.dataset.id] = true; });
            follow(table.dataset.stream, function (message) {
              var e; try { e = JSON.parse(message.data); } catch (err) { return; }
              if (seen[e.id]) return;
              seen[e.id] = true;
              var empty = document.getElementById("no-events"); if (empty) empty.remove();
              var row = document.createElement("tr");
              row.dataset.id = e.id;
              row.className = "fresh " + outcome(e.type);
              row.appendChild(cell(e.id));
              var at = cell((e.at || "").substring(11, 23)); at.title = e.at || ""; row.appendChild(at);
              row.appendChild(cell(e.type));
              row.appendChild(cell(e.agent));
              var s = document.createElement("td"); var a = document.createElement("a");
              a.href = "/events/timeline?session=" + encodeURIComponent(e.session || ""); a.textContent = e.session || ""; s.appendChild(a); row.appendChild(s);
              row.appendChild(code(e.tool));
              row.appendChild(cell(e.duration_ms != null ? e.duration_ms.toFixed(1) + " ms" : ""));
              var d = code(e.detail ? JSON.stringify(e.detail).substring(0, 400) : ""); d.className = "detail"; row.appendChild(d);
              body.insertBefore(row, body.firstChild);
              while (body.rows.length > 500) body.deleteRow(body.rows.length - 1);
            }, state);
          }
          // A region that reloads itself (the approvals page, the tasks pages): when an event of its
          // stream arrives, and every data-poll seconds while the page says something still runs.
          function liveRegion(region) {
            if (!region || (!region.dataset.stream && !region.dataset.poll)) return;
            var timer = null;
            function busy() {
              var a = document.activeElement;
              if (a && region.contains(a) && (a.tagName === "INPUT" || a.tagName === "SELECT")) return true;
              return Array.prototype.some.call(region.querySelectorAll("input[name=reason]"), function (i) { return i.value !== ""; });
            }
            function refresh() {
              timer = null;
              if (busy()) { timer = setTimeout(refresh, 2000); return; }
              fetch(location.pathname + location.search, { credentials: "same-origin", headers: { "Accept": "text/html" } }).then(function (r) { return r.ok ? r.text() : null; }).then(function (html) {
                if (!html) return;
                var doc = new DOMParser().parseFromString(html, "text/html");
                var fresh = doc.getElementById(region.id);
                if (!fresh) return;
                region.innerHTML = fresh.innerHTML;
                region.dataset.poll = fresh.dataset.poll || "";
                var badge = doc.querySelector("nav .badge"), current = document.querySelector("nav .badge");
                var link = document.querySelector('nav a[href="/approvals"]');
                if (current) current.remove();
                if (badge && link) link.appendChild(badge);
                poll();
              });
            }
            function poll() {
              var seconds = parseFloat(region.dataset.poll || "");
              if (seconds > 0 && !timer) timer = setTimeout(refresh, seconds * 1000);
            }
            if (region.dataset.stream) follow(region.dataset.stream, function () { if (!timer) timer = setTimeout(refresh, 150); }, null);
            poll();
          }
          function liveRegions() {
            liveRegion(document.getElementById("approvals-live"));
            Array.prototype.forEach.call(document.querySelectorAll("[data-live]"), liveRegion);
          }
          document.addEventListener("DOMContentLoaded", function () { eventsTail(); liveRegions(); });
        })();
        """
}
