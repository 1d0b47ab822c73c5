"""The web console in a real browser: headless Chromium driven by Selenium against a running
`agenthub serve`. Prints a JSON report; exits 1 when a check fails.

usage: console_browser.py PORT BOSS_KEY READER_KEY WRITER_KEY SCREENSHOT_DIR
"""
import json
import os
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import WebDriverWait

port, boss_key, reader_key, writer_key, shots = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5]
base = f"http://127.0.0.1:{port}"
os.makedirs(shots, exist_ok=True)
report = {"checks": [], "failures": [], "screenshots": []}


def check(ok, what):
    report["checks"].append(what)
    if not ok:
        report["failures"].append(what)
    return ok


def api(method, path, key, body=None, cookie=None, form=None, timeout=60, headers=None):
    """A request outside the browser: the API with a key, or a console route with a cookie."""
    headers = dict(headers or {})
    data = None
    if key:
        headers["Authorization"] = f"Bearer {key}"
    if cookie:
        headers["Cookie"] = cookie
    if body is not None:
        data = json.dumps(body).encode()
        headers["Content-Type"] = "application/json"
    if form is not None:
        data = urllib.parse.urlencode(form).encode()
        headers["Content-Type"] = "application/x-www-form-urlencoded"

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args, **kwargs):
            return None

    opener = urllib.request.build_opener(NoRedirect)
    request = urllib.request.Request(base + path, data=data, method=method, headers=headers)
    try:
        with opener.open(request, timeout=timeout) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def browser():
    options = webdriver.ChromeOptions()
    options.binary_location = os.environ.get("CHROMIUM", "/usr/bin/chromium")
    for flag in ["--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu", "--window-size=1280,900",
                 "--no-first-run", "--disable-extensions"]:
        options.add_argument(flag)
    return webdriver.Chrome(service=Service(os.environ.get("CHROMEDRIVER", "/usr/bin/chromedriver")), options=options)


def wait(driver, condition, seconds=20):
    return WebDriverWait(driver, seconds, poll_frequency=0.1).until(condition)


def sign_in(driver, key):
    driver.delete_all_cookies()
    driver.get(base + "/login")
    field = driver.find_element(By.ID, "key")
    field.send_keys(key)
    field.send_keys(Keys.ENTER)
    wait(driver, EC.presence_of_element_located((By.CSS_SELECTOR, "header.top")))


def session_cookie(driver):
    value = driver.get_cookie("agenthub_session")
    return f"agenthub_session={value['value']}" if value else ""


def screenshot(driver, name):
    """The page at desktop width, then as a phone (390 px, emulated: a headless window is never
    narrower than 500 px); the page must not scroll sideways on the phone."""
    for label, (width, height, mobile) in {"desktop": (1280, 900, False), "phone": (390, 844, True)}.items():
        metrics = {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": mobile}
        driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", metrics)
        time.sleep(0.2)
        if mobile:
            overflow = driver.execute_script("return document.documentElement.scrollWidth - document.documentElement.clientWidth")
            check(overflow <= 1, f"{name}: nothing overflows a phone-width window (overflow {overflow}px)")
        full = min(max(driver.execute_script("return document.documentElement.scrollHeight"), height), 4000)
        driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", dict(metrics, height=full))
        time.sleep(0.1)
        path = os.path.join(shots, f"{name}-{label}.png")
        driver.save_screenshot(path)
        report["screenshots"].append(path)
    driver.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})


driver = browser()
try:
    # Sign in as the admin: the overview opens.
    sign_in(driver, boss_key)
    check(driver.find_element(By.TAG_NAME, "h1").text == "Overview", "signing in opens the overview")
    cookie = driver.get_cookie("agenthub_session")
    check(cookie is not None and cookie.get("httpOnly") and cookie.get("sameSite") == "Strict", "the session cookie is HttpOnly and SameSite=Strict")
    check(driver.execute_script("return document.cookie.indexOf('agenthub_session') === -1"), "script on the page cannot read the session cookie")

    # The keyboard reaches the skip link first, then the navigation.
    driver.find_element(By.TAG_NAME, "body").send_keys(Keys.TAB)
    check(driver.switch_to.active_element.get_attribute("class") == "skip", "the first Tab lands on 'Skip to content'")

    # Search a skill and open it.
    driver.get(base + "/skills")
    box = driver.find_element(By.ID, "q")
    box.send_keys("guide")
    box.send_keys(Keys.ENTER)
    wait(driver, EC.presence_of_element_located((By.LINK_TEXT, "public-guide")))
    check("public-guide" in driver.find_element(By.ID, "skill-results").text, "a search finds the skill")
    driver.find_element(By.LINK_TEXT, "public-guide").click()
    wait(driver, EC.presence_of_element_located((By.ID, "skill-body")))
    check("Read the guide." in driver.find_element(By.ID, "skill-body").text, "the skill page shows its rendered SKILL.md")
    screenshot(driver, "skill")

    # A body with <script> is inert: shown as text, never run.
    driver.get(base + "/skills/public-trap")
    wait(driver, EC.presence_of_element_located((By.ID, "skill-body")))
    time.sleep(0.5)
    body = driver.find_element(By.ID, "skill-body")
    check("<script>" in body.text, "the skill's <script> is shown as text")
    check(driver.find_element(By.CSS_SELECTOR, "#skill-body h1").text == "Trap", "its Markdown still renders (a heading)")
    check(driver.execute_script("return window.__pwned === undefined"), "the skill's script and onerror never ran")
    check(len(driver.find_elements(By.CSS_SELECTOR, "#skill-body script, #skill-body img, #skill-body iframe")) == 0,
          "no script, img or iframe element came from the skill")
    alerts = driver.execute_script("return typeof window.alert")
    check(alerts == "function", "the page is intact")

    # Sync now, as the admin, and see it finish.
    driver.get(base + "/sources")
    driver.find_element(By.CSS_SELECTOR, "#source-local button[type=submit]").click()
    run = wait(driver, EC.presence_of_element_located((By.ID, "sync-run")), 60)
    wait(driver, lambda d: "Sync finished" in d.find_element(By.ID, "sync-run").text, 60)
    check("local:" in driver.find_element(By.ID, "sync-run").text, "sync now shows how the run ended")
    screenshot(driver, "sources")

    # An event written by a tool call appears in the live tail without a reload.
    driver.get(base + "/events")
    wait(driver, lambda d: "Live" in d.find_element(By.ID, "tail-state").text, 20)
    driver.execute_script("window.__stay = 42")
    status, _ = api("POST", "/v1/tools/memory_write/call", writer_key, {"arguments": {"type": "core", "text": "seen live"}, "session": "browser-live"})
    check(status == 200, f"the tool call ran ({status})")
    appeared = wait(driver, lambda d: [r for r in d.find_elements(By.CSS_SELECTOR, "#event-tail tbody tr.fresh") if "browser-live" in r.text], 20)
    check(bool(appeared), "the call's events appear in the live tail")
    check(driver.execute_script("return window.__stay") == 42, "the page was not reloaded")
    driver.get(base + "/events/timeline?session=browser-live")
    check("memory_write" in driver.find_element(By.CLASS_NAME, "timeline").text, "the session's timeline lists the call")
    screenshot(driver, "timeline")
    driver.get(base + "/events")
    screenshot(driver, "events")

    # Approve a pending request and see the waiting call complete.
    driver.get(base + "/approvals")
    driver.execute_script("window.__stay = 7")
    result = {}

    def waiting_call():
        result["status"], result["body"] = api("POST", "/v1/tools/memory_delete/call", writer_key,
                                               {"arguments": {"id": "mem_999999"}, "session": "browser-approval"}, timeout=120)

    caller = threading.Thread(target=waiting_call)
    caller.start()
    card = wait(driver, EC.presence_of_element_located((By.CSS_SELECTOR, "section.approval")), 30)
    check(driver.execute_script("return window.__stay") == 7, "the pending request appeared without a reload")
    check("memory_delete" in card.text and "writer" in card.text and "mem_999999" in card.text, "the request shows the tool, caller and arguments")
    screenshot(driver, "approvals")
    card = driver.find_element(By.CSS_SELECTOR, "section.approval")
    card.find_element(By.CSS_SELECTOR, "input[name=reason][id^=reason-a-]").send_keys("looks fine")
    card.find_element(By.CSS_SELECTOR, "button.good").click()
    wait(driver, EC.presence_of_element_located((By.CSS_SELECTOR, "p.flash.ok")))
    caller.join(60)
    check(not caller.is_alive() and result.get("status") == 200, f"the waiting call completed after approval ({result})")
    check("granted" in driver.find_element(By.CSS_SELECTOR, "p.flash.ok").text, "the page says the request was granted")

    # Tasks: a task started elsewhere appears without a reload, waits for its approval, and turns
    # completed on the open page once an admin approves it.
    driver.get(base + "/tasks")
    driver.execute_script("window.__stay = 8")
    status, started = api("POST", "/v1/tools/memory_delete/call", writer_key, {"arguments": {"id": "mem_888888"}},
                          headers={"Prefer": "respond-async"})
    started = json.loads(started) if status == 202 else {}
    check(status == 202 and started.get("id", "").startswith("tsk_"), f"Prefer: respond-async starts a task ({status} {started})")
    task_id = started.get("id", "")
    # The region is redrawn as the task moves: read the row by script, never hold an element across a redraw.
    def row_text(d):
        return d.execute_script("var r = document.querySelector('#tasks tr[data-id=\"' + arguments[0] + '\"]'); return r ? r.textContent : '';", task_id)
    row = wait(driver, lambda d: "input required" in row_text(d), 30)
    check(bool(row), "the new task appears on the open page, waiting for input")
    check(driver.execute_script("return window.__stay") == 8, "the tasks page updated without a reload")
    screenshot(driver, "tasks")
    _, task = api("GET", f"/v1/tasks/{task_id}", writer_key)
    task = json.loads(task)
    status, _ = api("POST", f"/v1/approvals/{task.get('approval_id')}/approve", boss_key, {})
    check(status == 200, f"the task's approval is granted ({status})")
    done = wait(driver, lambda d: "completed" in row_text(d), 30)
    check(bool(done) and driver.execute_script("return window.__stay") == 8, "the task turns completed on the open page")
    driver.get(base + f"/tasks/{task_id}")
    wait(driver, EC.presence_of_element_located((By.ID, "task-result")))
    check("mem_888888" in driver.find_element(By.ID, "task-result").text or "No memory" in driver.find_element(By.ID, "task-result").text,
          "the task's page shows its result")
    screenshot(driver, "task")

    # The rest of the pages, as the admin.
    for path, name in [("/", "overview"), ("/skills", "skills"), ("/tools", "tools")]:
        driver.get(base + path)
        screenshot(driver, name)

    # Keys: create (shown once) and revoke.
    driver.get(base + "/keys")
    driver.find_element(By.ID, "label").send_keys("made in the browser")
    driver.find_element(By.CSS_SELECTOR, "form[action='/keys'] button").click()
    created = wait(driver, EC.presence_of_element_located((By.ID, "created-key")))
    check("ah_" in created.text, "a new key is shown once")
    screenshot(driver, "keys")

    # A form posted without its CSRF token is refused, and nothing changes.
    driver.get(base + "/keys")
    rows_before = len(driver.find_elements(By.CSS_SELECTOR, "#keys tbody tr"))
    driver.execute_script("document.querySelector(\"form[action='/keys'] input[name=csrf]\").remove()")
    driver.find_element(By.ID, "label").send_keys("no token")
    driver.find_element(By.CSS_SELECTOR, "form[action='/keys'] button").click()
    wait(driver, EC.presence_of_element_located((By.TAG_NAME, "h1")))
    check(driver.find_element(By.TAG_NAME, "h1").text.startswith("403"), "a form without its CSRF token answers 403")
    driver.get(base + "/keys")
    check(len(driver.find_elements(By.CSS_SELECTOR, "#keys tbody tr")) == rows_before, "the refused form made no key")
    boss_cookie = session_cookie(driver)
    status, _ = api("POST", "/approvals/grants/none/revoke", None, cookie=boss_cookie, form={"reason": "x"})
    check(status == 403, f"a form posted from outside the page (no token) is refused ({status})")

    # A non-admin key: no admin page or button, and 403 on their URLs.
    sign_in(driver, reader_key)
    nav = driver.find_element(By.CSS_SELECTOR, "header nav").text
    check("Keys" not in nav, "a non-admin sees no Keys page in the navigation")
    driver.get(base + "/sources")
    check(len(driver.find_elements(By.XPATH, "//button[contains(., 'Sync now')]")) == 0, "a non-admin sees no Sync now button")
    driver.get(base + "/keys")
    check(driver.find_element(By.TAG_NAME, "h1").text.startswith("403"), "a non-admin opening /keys sees 403")
    reader_cookie = session_cookie(driver)
    status, _ = api("GET", "/keys", None, cookie=reader_cookie)
    check(status == 403, f"/keys answers a non-admin 403 ({status})")
    status, _ = api("POST", "/sources/local/sync", None, cookie=reader_cookie, form={})
    check(status == 403, f"sync answers a non-admin 403 ({status})")
    driver.get(base + "/skills")
    check("secret-plan" not in driver.page_source, "a non-admin sees only its role's skills")

    # Every read page works without JavaScript.
    driver.execute_cdp_cmd("Emulation.setScriptExecutionDisabled", {"value": True})
    for path, text in [("/", "Sources"), ("/skills?q=guide", "public-guide"), ("/skills/public-guide", "Read the guide."),
                       ("/sources", "local"), ("/tools", "memory_write"), ("/events", "Newest first"), ("/approvals", "Lasting grants")]:
        driver.get(base + path)
        check(text in driver.find_element(By.ID, "main").text, f"{path} reads without JavaScript")
    driver.execute_cdp_cmd("Emulation.setScriptExecutionDisabled", {"value": False})

    # Sign out ends the session.
    driver.find_element(By.CSS_SELECTOR, "form.signout button").click()
    wait(driver, EC.presence_of_element_located((By.ID, "key")))
    status, _ = api("GET", "/", None, cookie=reader_cookie)
    check(status == 303, f"after sign-out the old cookie opens nothing ({status})")
except Exception as error:  # a failed wait or a missing element: the report says where
    report["failures"].append(f"{type(error).__name__}: {error}".strip()[:800])
    try:
        driver.save_screenshot(os.path.join(shots, "failure.png"))
        report["failure_page"] = driver.current_url
    except Exception:
        pass
finally:
    driver.quit()

print(json.dumps(report, indent=1))
sys.exit(1 if report["failures"] else 0)
