/// The console's Mustache templates: the layout, sign-in and error pages, and one per page. `{{…}}`
/// escapes; `{{{…}}}` is used only for the rendered page body and sanitised Markdown.
enum ConsoleTemplates {
    static var all: [(String, String)] {
        [("layout", layout), ("login", login), ("error", error), ("overview", overview), ("skills", skills), ("skill", skill),
         ("file", file), ("sources", sources), ("tools", tools), ("events", events), ("timeline", timeline),
         ("approvals", approvals), ("tasks", tasks), ("task", task), ("keys", keys), ("loginDone", loginDone)]
    }

    static let head = """
        <meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
        <link rel="stylesheet" href="/assets/console.css"><script src="/assets/console.js" defer></script>
        """

    static let layout = """
        <!doctype html>
        <html lang="en"><head>\(head)
        {{#refresh}}<meta http-equiv="refresh" content="{{refresh}}">{{/refresh}}
        <title>{{title}} · AgentHub</title></head>
        <body data-page="{{page}}">
        <a class="skip" href="#main">Skip to content</a>
        <header class="top">
          <a class="brand" href="/">AgentHub</a>
          <nav aria-label="Console"><ul>
          {{#nav}}<li><a href="{{href}}"{{#current}} aria-current="page"{{/current}}>{{label}}{{#badge}} <span class="badge" aria-label="{{badge}} pending">{{badge}}</span>{{/badge}}</a></li>{{/nav}}
          </ul></nav>
          <form class="signout" method="post" action="/logout">
            <input type="hidden" name="csrf" value="{{csrf}}">
            <span class="who">{{agent}} · {{role}}{{#admin}} · admin{{/admin}}</span>
            <button type="submit">Sign out</button>
          </form>
        </header>
        <main id="main" tabindex="-1">
        {{#flash}}<p class="flash {{kind}}" role="status">{{text}}</p>{{/flash}}
        {{{body}}}
        </main>
        </body></html>
        """

    static let login = """
        <!doctype html>
        <html lang="en"><head>\(head)<title>Sign in · AgentHub</title></head>
        <body data-page="login"><main id="main" class="narrow">
        <h1>AgentHub</h1>
        <p>Sign in with an API key. <code>agenthub keys create --agent NAME</code> makes one; the console shows what that agent's role may see.</p>
        {{#notice}}<p class="flash ok" role="status">{{notice}}</p>{{/notice}}
        {{#error}}<p class="flash error" role="alert" id="login-error">{{error}}</p>{{/error}}
        <form method="post" action="/login" class="stack">
          <input type="hidden" name="csrf" value="{{csrf}}">
          <input type="hidden" name="next" value="{{next}}">
          <label for="key">API key</label>
          <input id="key" name="key" type="password" autocomplete="current-password" required autofocus placeholder="ah_…">
          <button type="submit">Sign in</button>
        </form>
        </main></body></html>
        """

    /// Where a browser lands after logging in to a remote server (outside the layout: the session
    /// cookie does not come along on the authorization server's redirect).
    static let loginDone = """
        <!doctype html>
        <html lang="en"><head>\(head)<title>Login · AgentHub</title></head>
        <body data-page="login-done"><main id="main" class="narrow">
        <h1>AgentHub</h1>
        {{#done}}<p class="flash ok" role="status" id="login-done">{{done}}</p>{{/done}}
        {{#error}}<p class="flash error" role="alert" id="login-error">{{error}}</p>{{/error}}
        <p><a href="/tools#servers">Back to the bridged servers</a></p>
        </main></body></html>
        """

    static let error = """
        <!doctype html>
        <html lang="en"><head>\(head)<title>{{status}} {{reason}} · AgentHub</title></head>
        <body data-page="error"><main id="main" class="narrow">
        <h1>{{status}} {{reason}}</h1>
        <p class="flash error" role="alert">{{message}}</p>
        <p><a href="/">Overview</a> · <a href="/login">Sign in</a></p>
        </main></body></html>
        """

    static let overview = """
        <h1>Overview</h1>
        {{#host}}
        <section aria-labelledby="host-h"><h2 id="host-h">Host</h2>
        <dl class="facts">
          <dt>Status</dt><dd>{{#ready}}<span class="pill good">ready</span>{{/ready}}{{^ready}}<span class="pill bad">not ready</span>{{/ready}}</dd>
          <dt>Uptime</dt><dd id="uptime">{{uptime}} <small>(since {{started}}, pid {{pid}})</small></dd>
          <dt>Manifest</dt><dd><code>{{config}}</code> at revision <code id="revision">{{revision}}</code></dd>
          {{#reload}}<dt>Last reload</dt><dd><span class="pill {{#rejected}}bad{{/rejected}}{{^rejected}}good{{/rejected}}">{{result}}</span> {{ago}} ({{trigger}}, {{at}}): {{message}}
            {{^empty(errors)}}<ul class="errors">{{#errors}}<li><code>{{.}}</code></li>{{/errors}}</ul>{{/empty(errors)}}</dd>{{/reload}}
        </dl>
        {{^empty(reasons)}}<ul class="errors" aria-label="Why the host is not ready">{{#reasons}}<li>{{.}}</li>{{/reasons}}</ul>{{/empty(reasons)}}
        </section>
        {{/host}}
        <section aria-labelledby="src-h"><h2 id="src-h"><a href="/sources">Sources</a></h2>
        <div class="scroll"><table><thead><tr><th>Source</th><th>Status</th><th>Revision</th><th>Skills</th><th>Last success</th><th>Failures</th></tr></thead><tbody>
        {{#sources}}<tr><td><a href="{{href}}">{{name}}</a></td><td><span class="pill {{#healthy}}good{{/healthy}}{{^healthy}}bad{{/healthy}}">{{status}}</span>{{#reason}} <small>{{reason}}</small>{{/reason}}</td>
          <td><code>{{revision}}</code></td><td>{{skills}}</td><td title="{{lastSuccessAt}}">{{lastSuccess}}</td><td>{{failures}}</td></tr>{{/sources}}
        </tbody></table></div>
        </section>
        {{#hasServers}}<section aria-labelledby="srv-h"><h2 id="srv-h"><a href="/tools#servers">Bridged servers</a></h2>
        <div class="scroll"><table><thead><tr><th>Server</th><th>State</th><th>Tools</th><th>Restarts</th><th>Last exit</th></tr></thead><tbody>
        {{#servers}}<tr><td>{{server}}</td><td><span class="pill {{#running}}good{{/running}}{{^running}}warn{{/running}}">{{state}}</span></td><td>{{tools}}</td><td>{{restarts}}</td><td>{{lastExit}}</td></tr>{{/servers}}
        </tbody></table></div></section>{{/hasServers}}
        <section aria-labelledby="apr-h"><h2 id="apr-h"><a href="/approvals">Pending approvals</a> <span class="count">{{pendingCount}}</span></h2>
        {{^pending}}<p class="empty">Nothing waits for an answer.</p>{{/pending}}
        {{^empty(pending)}}<ul class="plain">{{#pending}}<li><a href="/approvals#{{id}}"><code>{{tool}}</code></a> for <strong>{{agent}}</strong>, {{created}}, expires {{expires}}</li>{{/pending}}</ul>{{/empty(pending)}}
        </section>
        <section aria-labelledby="fail-h"><h2 id="fail-h"><a href="/events?type=tool.failed,tool.blocked">Recent failures</a></h2>
        {{^failures}}<p class="empty">No failed or blocked calls.</p>{{/failures}}
        {{^empty(failures)}}<div class="scroll"><table><thead><tr><th>At</th><th>Agent</th><th>Tool</th><th>Outcome</th><th>Detail</th></tr></thead><tbody>
        {{#failures}}<tr><td title="{{at}}">{{time}}</td><td>{{agent}}</td><td><code>{{tool}}</code></td><td><span class="pill bad">{{type}}</span></td><td class="detail"><code>{{detail}}</code></td></tr>{{/failures}}
        </tbody></table></div>{{/empty(failures)}}
        </section>
        """

    static let skills = """
        <h1>Skills</h1>
        <form method="get" action="/skills" class="filters" role="search">
          <label for="q">Search</label><input id="q" name="q" type="search" value="{{q}}" placeholder="words, the last a prefix">
          <label for="source">Source</label><select id="source" name="source"><option value="">Any source</option>{{#sources}}<option value="{{name}}"{{#selected}} selected{{/selected}}>{{name}}</option>{{/sources}}</select>
          <label for="verdict">Verdict</label><select id="verdict" name="verdict">{{#verdicts}}<option value="{{value}}"{{#selected}} selected{{/selected}}>{{label}}</option>{{/verdicts}}</select>
          <button type="submit">Search</button>
        </form>
        {{#none}}<p class="empty">No skill matches{{#searched}} “{{q}}”{{/searched}} that your role may see.</p>{{/none}}
        {{^none}}<p class="muted">{{count}} shown{{#searched}}, best match first{{/searched}}.</p>
        <ul class="cards" id="skill-results">
        {{#skills}}<li><a class="title" href="{{href}}">{{name}}</a> <span class="pill {{verdictClass}}">{{verdict}}</span>{{#shadowed}} <span class="pill warn">shadowed</span>{{/shadowed}}
          <p>{{description}}</p><small>{{source}} · <code>{{path}}</code> · <code>{{revision}}</code></small></li>{{/skills}}
        </ul>{{/none}}
        {{#hasNext}}<p><a href="{{next}}" rel="next">Next page</a></p>{{/hasNext}}
        """

    static let skill = """
        <p class="crumbs"><a href="/skills">Skills</a> / {{name}}</p>
        <h1>{{name}} <span class="pill {{verdictClass}}">{{verdict}}</span>{{#shadowed}} <span class="pill warn">shadowed</span>{{/shadowed}}</h1>
        <p class="lead">{{description}}</p>
        {{#shadowed}}<p class="flash error">This copy is shadowed: the name is served from {{#shadowedByHref}}<a href="{{shadowedByHref}}">{{shadowedBySource}}</a>{{/shadowedByHref}}{{^shadowedByHref}}an earlier source{{/shadowedByHref}}.</p>{{/shadowed}}
        {{#plainBody}}<p class="muted">The body is shown as plain text: it is too large to render, or its Markdown could not be rendered.</p>{{/plainBody}}
        <div class="split">
        <article class="markdown" id="skill-body" aria-label="SKILL.md">{{#hasBody}}{{{html}}}{{/hasBody}}{{^hasBody}}<p class="empty">The body is empty.</p>{{/hasBody}}</article>
        <aside>
        <h2>Where</h2>
        <dl class="facts">
          <dt>Source</dt><dd><a href="/skills?source={{source}}">{{source}}</a> <small>({{sourceKind}} {{sourceLocation}})</small></dd>
          <dt>Path</dt><dd><code>{{path}}/{{fileName}}</code></dd>
          <dt>Revision</dt><dd><code>{{revision}}</code></dd>
          <dt>Commit</dt><dd><code>{{commit}}</code></dd>
          <dt>Updated</dt><dd>{{updated}}</dd>
          {{#license}}<dt>License</dt><dd>{{license}}</dd>{{/license}}
          {{#compatibility}}<dt>Compatibility</dt><dd>{{compatibility}}</dd>{{/compatibility}}
          {{#allowedTools}}<dt>Allowed tools</dt><dd><code>{{allowedTools}}</code></dd>{{/allowedTools}}
        </dl>
        <h2>Verdicts</h2>
        <dl class="facts">
          <dt>Loads</dt><dd>{{#loadable}}<span class="pill good">yes</span>{{/loadable}}{{^loadable}}<span class="pill bad">no</span>{{/loadable}}
            {{^empty(loadErrors)}}<ul class="errors">{{#loadErrors}}<li>{{.}}</li>{{/loadErrors}}</ul>{{/empty(loadErrors)}}</dd>
          <dt>Strict (skills-ref)</dt><dd>{{#strict}}<span class="pill good">passes</span>{{/strict}}{{^strict}}<span class="pill warn">fails</span>{{/strict}}
            {{^empty(strictErrors)}}<ul class="errors">{{#strictErrors}}<li>{{.}}</li>{{/strictErrors}}</ul>{{/empty(strictErrors)}}</dd>
          {{#hasWarnings}}<dt>Warnings</dt><dd><ul class="warnings">{{#warnings}}<li>{{.}}</li>{{/warnings}}</ul></dd>{{/hasWarnings}}
        </dl>
        {{#metadata}}<h2>Metadata</h2><pre>{{metadata}}</pre>{{/metadata}}
        <h2>Files</h2>
        <ul class="plain files">{{#files}}<li>{{#viewable}}<a href="{{href}}"><code>{{path}}</code></a>{{/viewable}}{{^viewable}}<code>{{path}}</code>{{/viewable}} <small>{{kind}}, {{size}} B{{#binary}}, binary{{/binary}}{{#target}} → {{target}}{{/target}}{{#note}} ({{note}}){{/note}}</small></li>{{/files}}</ul>
        {{#hasCopies}}<h2>Other copies</h2><ul class="plain">{{#copies}}<li><a href="{{href}}">{{source}}/{{path}}</a>{{#shadowed}} (shadowed){{/shadowed}}</li>{{/copies}}</ul>{{/hasCopies}}
        </aside>
        </div>
        """

    static let file = """
        <p class="crumbs"><a href="/skills">Skills</a> / <a href="{{skillHref}}">{{skill}}</a> / {{path}}</p>
        <h1><code>{{path}}</code></h1>
        <p class="muted">{{kind}}, {{size}} bytes</p>
        {{#content}}<pre class="file" tabindex="0">{{content}}</pre>{{/content}}
        {{#missing}}<p class="empty">{{missing}}</p>{{/missing}}
        """

    static let sources = """
        <h1>Sources</h1>
        {{#run}}<div class="flash {{#done}}{{#failed}}error{{/failed}}{{^failed}}ok{{/failed}}{{/done}}" role="status" id="sync-run" data-done="{{done}}">
          {{#done}}Sync finished: <strong>{{summary}}</strong>{{/done}}{{^done}}Syncing {{source}} (started {{started}}); this page refreshes until it ends…{{/done}}</div>{{/run}}
        {{#noSync}}<p class="muted">This host runs with --no-sync: sources are shown as the registry has them.</p>{{/noSync}}
        <div class="scroll"><table id="sources"><thead><tr><th>Source</th><th>Status</th><th>Revision</th><th>Skills</th><th>Last success</th><th>Failures</th><th>Next attempt</th>{{#canSync}}<th><span class="sr">Actions</span></th>{{/canSync}}</tr></thead><tbody>
        {{#sources}}<tr id="source-{{name}}"><td><a href="{{href}}">{{name}}</a><br><small>{{kind}} <code>{{location}}</code></small></td>
          <td><span class="pill {{#healthy}}good{{/healthy}}{{^healthy}}bad{{/healthy}}">{{status}}</span>{{#failureKind}} <small>{{failureKind}}</small>{{/failureKind}}{{#reason}}<br><small>{{reason}}</small>{{/reason}}</td>
          <td><code>{{revision}}</code>{{#commit}}<br><small>commit <code>{{commit}}</code></small>{{/commit}}</td>
          <td>{{skills}}<br><small>{{loadable}} load, {{strict}} strict, {{shadowed}} shadowed</small></td>
          <td title="{{lastSuccessAt}}">{{lastSuccess}}<br><small>tried {{lastAttempt}}</small></td><td>{{failures}}</td><td title="{{nextAttemptAt}}">{{nextAttempt}}</td>
          {{#canSync}}<td><form method="post" action="/sources/{{name}}/sync"><input type="hidden" name="csrf" value="{{csrf}}"><button type="submit" aria-label="Sync {{name}} now">Sync now</button></form></td>{{/canSync}}</tr>{{/sources}}
        </tbody></table></div>
        """

    static let tools = """
        <h1>Tools</h1>
        {{^empty(roles)}}<form method="get" action="/tools" class="filters"><label for="role">Role</label><select id="role" name="role">{{#roles}}<option value="{{name}}"{{#selected}} selected{{/selected}}>{{name}}</option>{{/roles}}</select><button type="submit">Show</button></form>{{/empty(roles)}}
        <p class="muted">{{heading}}; policy mode <code>{{mode}}</code>.</p>
        <div class="scroll"><table id="tools"><thead><tr><th>Tool</th><th>Decision</th><th>Risk</th><th>Rule</th><th>Why</th></tr></thead><tbody>
        {{#tools}}<tr><td><code>{{name}}</code><br><small>{{title}}</small></td><td><span class="pill {{decisionClass}}">{{decision}}</span><br><small>{{effect}}</small></td><td>{{risk}}</td>
          <td>{{#rule}}<code>{{rule}}</code><br><small>{{ruleText}}</small>{{/rule}}{{^rule}}<small>default</small>{{/rule}}</td><td><small>{{reason}}</small></td></tr>{{/tools}}
        </tbody></table></div>
        <h2 id="servers">Bridged servers</h2>
        {{^hasServers}}<p class="empty">No MCP servers are bridged (plugins.mcp.servers).</p>{{/hasServers}}
        {{#servers}}<section class="card"><h3>{{server}} <span class="pill {{#running}}good{{/running}}{{^running}}warn{{/running}}">{{state}}</span></h3>
          <p>pid {{pid}} · protocol {{protocol}} · {{tools}} tools · {{restarts}} restarts · since <span title="{{sinceAt}}">{{since}}</span></p>
          <p>Last exit: {{lastExit}}</p>
          {{^empty(problems)}}<ul class="errors">{{#problems}}<li>{{.}}</li>{{/problems}}</ul>{{/empty(problems)}}
          {{#stderr}}<details><summary>stderr tail</summary><pre>{{stderr}}</pre></details>{{/stderr}}
          {{#login}}<div class="login" id="login-{{server}}"><p>OAuth: {{mode}} · {{#loggedIn}}<strong>logged in</strong>{{/loggedIn}}{{^loggedIn}}not logged in{{/loggedIn}}{{#who}} · logged in: {{who}}{{/who}}</p>
            {{#may}}<form method="post" action="/servers/{{server}}/login" class="inline"><input type="hidden" name="csrf" value="{{csrf}}"><button type="submit">{{#loggedIn}}Log in again{{/loggedIn}}{{^loggedIn}}Log in{{/loggedIn}}</button></form>
            {{#loggedIn}}<form method="post" action="/servers/{{server}}/logout" class="inline"><input type="hidden" name="csrf" value="{{csrf}}"><button type="submit">Log out</button></form>{{/loggedIn}}{{/may}}</div>{{/login}}
        </section>{{/servers}}
        """

    static let events = """
        <h1>Events</h1>
        <form method="get" action="/events" class="filters">
          {{#admin}}<label for="agent">Agent</label><select id="agent" name="agent"><option value="">Every agent</option>{{#agents}}<option value="{{name}}"{{#selected}} selected{{/selected}}>{{name}}</option>{{/agents}}</select>{{/admin}}
          <label for="session">Session</label><input id="session" name="session" value="{{session}}">
          <label for="type">Types</label><input id="type" name="type" value="{{type}}" placeholder="tool.failed,tool.blocked">
          <button type="submit">Filter</button>
          <a class="button" href="{{export}}" id="export" download>Export JSONL</a>
        </form>
        <p class="muted"><span id="tail-state" aria-live="polite">{{#paged}}Older events, newest first. <a href="{{newestHref}}">Back to the latest</a>{{/paged}}{{^paged}}Newest first; the latest 100.{{/paged}}</span></p>
        <div class="scroll"><table id="event-tail" data-stream="{{stream}}"><thead><tr><th>#</th><th>At</th><th>Type</th><th>Agent</th><th>Session</th><th>Tool</th><th>Took</th><th>Detail</th></tr></thead><tbody>
        {{#events}}<tr data-id="{{id}}" class="{{outcome}}"><td>{{id}}</td><td title="{{at}}">{{time}}</td><td>{{type}}</td><td>{{agent}}</td><td><a href="{{sessionHref}}">{{session}}</a></td><td><code>{{tool}}</code></td><td>{{duration}}</td><td class="detail"><code>{{detail}}</code></td></tr>{{/events}}
        </tbody></table></div>
        {{#none}}<p class="empty" id="no-events">No events match.</p>{{/none}}
        {{#olderHref}}<p><a href="{{olderHref}}" rel="next" id="older">Older events</a></p>{{/olderHref}}
        """

    static let timeline = """
        <p class="crumbs"><a href="/events">Events</a> / session</p>
        <h1>Session <code>{{session}}</code></h1>
        <p class="muted">{{count}} events, {{first}} to {{last}} · <a href="{{export}}" download>Export JSONL</a></p>
        {{#none}}<p class="empty">No events for this session that you may see.</p>{{/none}}
        <ol class="timeline">
        {{#calls}}<li class="{{outcomeClass}}"><span class="time" title="{{at}}">{{time}}</span> <code>{{tool}}</code> <span class="pill {{outcomeClass}}">{{outcome}}</span> <span class="took">{{duration}}</span>
          <small>{{agent}} · span {{span}}</small>{{#notes}} <small class="note">{{.}}</small>{{/notes}}{{#detail}}<br><code class="detail">{{detail}}</code>{{/detail}}</li>{{/calls}}
        </ol>
        """

    static let approvals = """
        <h1>Approvals</h1>
        <div id="approvals-live" data-stream="{{stream}}">
        <h2>Pending</h2>
        {{#nonePending}}<p class="empty" id="none-pending">Nothing waits for an answer.</p>{{/nonePending}}
        {{#pending}}<section class="card approval" id="{{id}}" data-id="{{id}}">
          <h3><code>{{tool}}</code> for <strong>{{agent}}</strong> <small>(role {{role}})</small></h3>
          <p>Asked {{created}} by the rule at <code>{{rule}}</code>; expires <span title="{{expiresAt}}">{{expires}}</span>. Session <code>{{session}}</code>, request <code>{{id}}</code>.</p>
          <p><small>{{reason}}</small></p>
          <pre class="arguments" aria-label="Arguments">{{arguments}}</pre>
          <p><small>Answered by {{approvers}}.</small></p>
          {{#admin}}{{#operatorsAnswer}}<div class="answer">
          <form method="post" action="/approvals/{{id}}/approve" class="inline">
            <input type="hidden" name="csrf" value="{{csrf}}">
            <label for="scope-{{id}}">Approve</label><select id="scope-{{id}}" name="scope">{{#scopes}}<option value="{{value}}">{{label}}</option>{{/scopes}}</select>
            <label for="for-{{id}}" class="sr">How long an agent grant lasts</label><input id="for-{{id}}" name="duration" size="9" placeholder="or for: 8h">
            <label for="reason-a-{{id}}" class="sr">Reason</label><input id="reason-a-{{id}}" name="reason" placeholder="reason (optional)">
            <button type="submit" class="good" name="answer" value="approve">Approve</button>
          </form>
          <form method="post" action="/approvals/{{id}}/deny" class="inline">
            <input type="hidden" name="csrf" value="{{csrf}}">
            <label for="reason-d-{{id}}" class="sr">Reason for denying</label><input id="reason-d-{{id}}" name="reason" placeholder="why not (optional)">
            <button type="submit" class="bad">Deny</button>
          </form></div>{{/operatorsAnswer}}{{^operatorsAnswer}}<p class="muted">Only the caller's own client answers this request (its rule says so).</p>{{/operatorsAnswer}}{{/admin}}
          {{^admin}}<p class="muted">An admin answers this request.</p>{{/admin}}
        </section>{{/pending}}
        {{#olderPending}}<p><a href="{{olderPending}}">Older pending requests →</a></p>{{/olderPending}}
        {{#newestPending}}<p><a href="{{newestPending}}">← Newest pending requests</a></p>{{/newestPending}}
        <h2>Lasting grants</h2>
        {{#noneGrants}}<p class="empty">No lasting grants.</p>{{/noneGrants}}
        {{^noneGrants}}<div class="scroll"><table id="grants"><thead><tr><th>Grant</th><th>Tool</th><th>Agent</th><th>Scope</th><th>Granted by</th><th>Expires</th><th>Status</th>{{#admin}}<th><span class="sr">Actions</span></th>{{/admin}}</tr></thead><tbody>
        {{#grants}}<tr><td><code>{{id}}</code></td><td><code>{{tool}}</code></td><td>{{agent}}</td><td>{{scope}}{{#session}} <small>{{session}}</small>{{/session}}</td><td>{{by}} {{created}}</td><td>{{expires}}</td><td>{{status}}</td>
          {{#admin}}<td><form method="post" action="/approvals/grants/{{id}}/revoke"><input type="hidden" name="csrf" value="{{csrf}}"><button type="submit" aria-label="Revoke grant {{id}}">Revoke</button></form></td>{{/admin}}</tr>{{/grants}}
        </tbody></table></div>{{/noneGrants}}
        <h2>Latest answers</h2>
        {{#noneRecent}}<p class="empty">No answered requests yet.</p>{{/noneRecent}}
        {{^noneRecent}}<div class="scroll"><table id="answered"><thead><tr><th>Request</th><th>Tool</th><th>Agent</th><th>Status</th><th>By</th><th>Reason</th></tr></thead><tbody>
        {{#recent}}<tr><td><code>{{id}}</code></td><td><code>{{tool}}</code></td><td>{{agent}}</td><td>{{status}}{{#scope}} ({{scope}}){{/scope}}</td><td>{{decidedBy}} {{decided}}</td><td>{{decisionReason}}</td></tr>{{/recent}}
        </tbody></table></div>{{/noneRecent}}
        </div>
        """

    static let tasks = """
        <h1>Tasks</h1>
        <form method="get" action="/tasks" class="filters">
          <label for="status">Status</label><select id="status" name="status">{{#statuses}}<option value="{{value}}"{{#selected}} selected{{/selected}}>{{value}}</option>{{/statuses}}</select>
          <button type="submit">Filter</button>
        </form>
        <div id="tasks-live" data-live data-stream="{{stream}}" data-poll="{{poll}}">
        <p class="muted">Long tool calls that outlive their request{{#admin}}, every agent's{{/admin}}; newest first, kept until their TTL (<code>router.task_ttl</code>).{{#full}} The newest {{pageSize}}.{{/full}}</p>
        {{#none}}<p class="empty" id="no-tasks">No tasks.</p>{{/none}}
        {{^none}}<div class="scroll"><table id="tasks"><thead><tr><th>Task</th><th>Tool</th><th>Agent</th><th>Status</th><th>Message</th><th>Started</th><th>Updated</th></tr></thead><tbody>
        {{#tasks}}<tr data-id="{{id}}" data-status="{{status}}"><td><a href="{{href}}"><code>{{id}}</code></a></td><td><code>{{tool}}</code></td><td>{{agent}}</td>
          <td><span class="pill {{statusClass}}">{{status}}</span>{{#cancelAsked}} <small>cancelling</small>{{/cancelAsked}}</td><td>{{message}}</td>
          <td title="{{createdAt}}">{{created}}</td><td title="{{updatedAt}}">{{updated}}</td></tr>{{/tasks}}
        </tbody></table></div>{{/none}}
        </div>
        """

    static let task = """
        {{#task}}<p class="crumbs"><a href="/tasks">Tasks</a> / {{id}}</p>
        <h1>Task <code>{{id}}</code></h1>
        <div id="task-live" data-live data-stream="{{stream}}" data-poll="{{poll}}">
        <p><code>{{tool}}</code> for <strong>{{agent}}</strong>, session <code>{{session}}</code>. Started <span title="{{createdAt}}">{{created}}</span>, updated <span title="{{updatedAt}}">{{updated}}</span>; forgotten {{expires}} (router.task_ttl).</p>
        <p>Status <span class="pill {{statusClass}}" id="task-status">{{status}}</span>{{#cancelAsked}} <small>cancellation asked</small>{{/cancelAsked}}{{#detailMessage}} · <span id="task-message">{{detailMessage}}</span>{{/detailMessage}}</p>
        {{#approval}}<p>It waits for <a href="/approvals#{{approval}}">approval {{approval}}</a>.</p>{{/approval}}
        {{#retryOf}}<p>It retries <a href="/tasks/{{retryOf}}">{{retryOf}}</a>.</p>{{/retryOf}}
        <div class="answer">
          {{#mayCancel}}<form method="post" action="/tasks/{{id}}/cancel" class="inline"><input type="hidden" name="csrf" value="{{csrf}}"><button type="submit" class="bad">Cancel</button></form>{{/mayCancel}}
          {{#mayRetry}}<form method="post" action="/tasks/{{id}}/retry" class="inline"><input type="hidden" name="csrf" value="{{csrf}}"><button type="submit">Retry as a new task</button></form>{{/mayRetry}}
        </div>
        {{#result}}<h2>Result</h2><pre class="arguments" id="task-result">{{result}}</pre>{{/result}}
        {{#error}}<h2>Error</h2><pre class="arguments" id="task-error">{{error}}</pre>{{/error}}
        </div>
        <h2>Arguments</h2>
        {{#argumentsCut}}<p class="muted">Redacted or cut as stored (they held secrets or were large): this task cannot be retried.</p>{{/argumentsCut}}
        <pre class="arguments" aria-label="Arguments">{{arguments}}</pre>{{/task}}
        """

    static let keys = """
        <h1>Keys</h1>
        {{#created}}<section class="card created" role="status" id="created-key"><h2>New key for {{agent}}</h2>
          <p>Copy it now: it is shown this once and stored only as a keyed hash.</p>
          <pre class="key" tabindex="0">{{key}}</pre><p><small>id <code>{{id}}</code></small></p></section>{{/created}}
        <form method="post" action="/keys" class="filters">
          <input type="hidden" name="csrf" value="{{csrf}}">
          <label for="agent">Agent</label><select id="agent" name="agent">{{#agents}}<option value="{{name}}">{{name}} ({{role}}{{#admin}}, admin{{/admin}})</option>{{/agents}}</select>
          <label for="label">Label</label><input id="label" name="label" maxlength="200" placeholder="what it is for">
          <label for="expires">Expires</label><select id="expires" name="expires">{{#lifetimes}}<option value="{{value}}">{{label}}</option>{{/lifetimes}}</select>
          <button type="submit">Create key</button>
        </form>
        {{#none}}<p class="empty">No stored keys.</p>{{/none}}
        {{^none}}<div class="scroll"><table id="keys"><thead><tr><th>Key</th><th>Agent</th><th>Label</th><th>Created</th><th>Expires</th><th>State</th><th><span class="sr">Actions</span></th></tr></thead><tbody>
        {{#keys}}<tr><td><code>{{id}}</code><br><small><code>{{hint}}</code></small></td><td>{{agent}}</td><td>{{label}}</td><td>{{created}}</td><td>{{expires}}</td><td><span class="pill {{stateClass}}">{{state}}</span></td>
          <td>{{#active}}<form method="post" action="/keys/{{id}}/revoke"><input type="hidden" name="csrf" value="{{csrf}}"><button type="submit" class="bad" aria-label="Revoke key {{id}}">Revoke</button></form>{{/active}}</td></tr>{{/keys}}
        </tbody></table></div>{{/none}}
        """
}
