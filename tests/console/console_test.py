#!/usr/bin/env python3
"""The web console in a real browser (issue #11): headless Chromium from
Debian, driven by Selenium (python3-selenium, chromium-driver), against a
real `tally serve`.

Signs in, starts a shopping session from the board, sees an item another
client adds appear on the pick list, picks it, ends the session, opens the
session (timeline, time travel, chain check) and its invoice. A bad token
shows its problem as words. Screenshots of each page go to --screenshots.

    tests/console/console_test.py --tally build/dev/app/tally [--screenshots DIR]
"""
import argparse
import datetime
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import Select, WebDriverWait

failures = []


def check(ok, what):
    print(("ok   " if ok else "FAIL ") + what, flush=True)
    if not ok:
        failures.append(what)


class Server:
    def __init__(self, tally, data):
        self.tally, self.data = tally, data
        self.proc = subprocess.Popen([tally, "serve", "--data", data, "--listen", "127.0.0.1:0"],
                                     stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        line = self.proc.stdout.readline()
        if "listening on " not in line:
            raise SystemExit("tally serve did not start: " + line)
        self.url = line.split("listening on ")[1].strip()

    def token(self, role):
        return subprocess.run([self.tally, "token", "--data", self.data, "--tenant", "acme",
                               "--role", role, "--name", role.title()],
                              check=True, capture_output=True, text=True).stdout.strip()

    def call(self, token, method, path, body=None, headers=None):
        req = urllib.request.Request(self.url + path, method=method,
                                     data=None if body is None else json.dumps(body).encode(),
                                     headers={"Authorization": "Bearer " + token,
                                              "Content-Type": "application/json", **(headers or {})})
        with urllib.request.urlopen(req) as res:
            text = res.read().decode()
            return json.loads(text) if text else None, res.headers.get("Tally-Position")

    def stop(self):
        self.proc.terminate()
        self.proc.wait(15)


def browser():
    options = webdriver.ChromeOptions()
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                "--window-size=1100,800", "--disable-extensions", "--no-first-run"):
        options.add_argument(arg)
    chromium = shutil.which("chromium")
    if chromium:
        options.binary_location = chromium
    return webdriver.Chrome(service=Service(shutil.which("chromedriver")), options=options)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--tally", required=True)
    p.add_argument("--screenshots", default="")
    args = p.parse_args()
    data = tempfile.mkdtemp(prefix="tally-console-")
    server = Server(args.tally, data)
    driver = None
    try:
        admin = server.token("admin")
        warehouse = server.token("warehouse")
        customer, _ = server.call(admin, "POST", "/v1/customers", {"name": "Ada Lovelace"})
        server.call(admin, "PUT", "/v1/inventory/tea",
                    {"name": "Green tea", "unit_price_cents": 450, "location": "B2"})
        server.call(admin, "POST", "/v1/inventory/tea/receipts", {"quantity": 10})

        driver = browser()
        wait = WebDriverWait(driver, 10)
        shots = args.screenshots

        def shot(name):
            if shots:
                os.makedirs(shots, exist_ok=True)
                driver.save_screenshot(os.path.join(shots, name + ".png"))

        # A token that is not one: the problem in words, not a blank page.
        driver.get(server.url + "/console/")
        wait.until(EC.presence_of_element_located((By.ID, "token"))).send_keys("not-a-token")
        driver.find_element(By.CSS_SELECTOR, "#sign-in button").click()
        problem = wait.until(EC.visibility_of_element_located((By.ID, "problem")))
        check("not a token" in problem.text, f"a bad token is explained: {problem.text!r}")

        # Sign in as admin: the sessions board.
        field = driver.find_element(By.ID, "token")
        field.clear()
        field.send_keys(admin)
        driver.find_element(By.CSS_SELECTOR, "#sign-in button").click()
        wait.until(EC.presence_of_element_located((By.ID, "start")))
        wait.until(lambda d: "live" == d.find_element(By.ID, "live").text)
        check(True, "signed in; the board is live")

        # Start a shopping session from the board.
        Select(driver.find_element(By.ID, "kind")).select_by_visible_text("shopping")
        Select(driver.find_element(By.ID, "customer")).select_by_visible_text("Ada Lovelace")
        driver.find_element(By.CSS_SELECTOR, "#start button").click()
        row = wait.until(EC.presence_of_element_located((By.CSS_SELECTOR, "#rows tr[data-id]")))
        session = row.get_attribute("data-id")
        check("Ada Lovelace" in row.text, "the started session appears on the board")
        first = row.find_element(By.CSS_SELECTOR, "td.elapsed").text
        later = WebDriverWait(driver, 4).until(
            lambda d: (t := d.find_element(By.CSS_SELECTOR, "#rows tr[data-id] td.elapsed").text)
            != first and t)
        check(later.startswith("0:00:0"), f"elapsed time ticks from the server's clock ({first} -> {later})")
        shot("sessions")

        # The pick list; an item added by another client shows up, live.
        driver.get(server.url + "/console/#/picklist")
        wait.until(EC.presence_of_element_located((By.ID, "orders")))
        wait.until(lambda d: "live" == d.find_element(By.ID, "live").text)
        time.sleep(0.3)  # subscribed
        added_at = time.monotonic()
        line, _ = server.call(admin, "POST", f"/v1/sessions/{session}/items",
                              {"item_id": "tea", "quantity": 2})
        line_id = line["line_id"]
        el = wait.until(EC.presence_of_element_located(
            (By.CSS_SELECTOR, f'.line[data-line="{line_id}"]')))
        seen_after = time.monotonic() - added_at
        check("B2" in el.text and "Green tea" in el.text,
              f"the added line appears with its shelf, {seen_after:.2f} s after it was added")
        print(f"     (line on the pick list {seen_after * 1000:.0f} ms after the POST)")
        shot("picklist")
        el.find_element(By.CSS_SELECTOR, "button.pick").click()
        wait.until(EC.invisibility_of_element_located(
            (By.CSS_SELECTOR, f'.line[data-line="{line_id}"]')))
        check(True, "picking it takes it off the pick list")

        # Stock written down below what is reserved: the line goes, sold out.
        line2, _ = server.call(admin, "POST", f"/v1/sessions/{session}/items",
                               {"item_id": "tea", "quantity": 3})
        wait.until(EC.presence_of_element_located(
            (By.CSS_SELECTOR, f'.line[data-line="{line2["line_id"]}"]')))
        item, _ = server.call(admin, "GET", "/v1/inventory/tea")
        # Two left: the first line's 2 fit, the newest (3) does not.
        server.call(admin, "POST", "/v1/inventory/tea/adjustments",
                    {"delta": 2 - item["on_hand"], "reason": "broken"})
        alert = wait.until(EC.presence_of_element_located((By.CSS_SELECTOR, "#alerts .alert")))
        check("Sold out: Green tea × 3" in alert.text, f"a sold-out alert shows: {alert.text!r}")
        wait.until(EC.invisibility_of_element_located(
            (By.CSS_SELECTOR, f'.line[data-line="{line2["line_id"]}"]')))
        check(len(driver.find_elements(By.CSS_SELECTOR, "#alerts .alert")) == 1,
              "alerted once, though it came on two channels")

        # A short pick by the warehouse: the line says who picked it and when.
        server.call(admin, "POST", "/v1/inventory/tea/receipts", {"quantity": 5})
        line3, _ = server.call(admin, "POST", f"/v1/sessions/{session}/items",
                               {"item_id": "tea", "quantity": 2})
        server.call(warehouse, "POST",
                    f"/v1/sessions/{session}/items/{line3['line_id']}/pick", {"quantity": 1})
        picked = wait.until(lambda d: (t := d.find_element(
            By.CSS_SELECTOR, f'.line[data-line="{line3["line_id"]}"]').text) and
            "by Warehouse" in t and t)
        check("1 picked by Warehouse at" in picked, f"a line names who picked it and when: {picked!r}")
        shot("picklist")

        # End it from the board.
        driver.get(server.url + "/console/#/sessions")
        end = wait.until(EC.element_to_be_clickable(
            (By.CSS_SELECTOR, f'#rows tr[data-id="{session}"] button.end')))
        end.click()
        wait.until(EC.invisibility_of_element_located(
            (By.CSS_SELECTOR, f'#rows tr[data-id="{session}"]')))
        check(True, "ending it takes it off the board")

        # The session: lines, its timeline, time travel, the chain check, its invoice.
        driver.get(server.url + f"/console/#/session/{session}")
        invoice_link = wait.until(EC.presence_of_element_located(
            (By.CSS_SELECTOR, '#detail a[href^="#/invoice/"]')))
        check("Green tea" in driver.find_element(By.ID, "detail").text, "the session shows its line")
        events = driver.find_elements(By.CSS_SELECTOR, "#events li")
        check(len(events) >= 4, f"the timeline lists its events ({len(events)})")
        slider = driver.find_element(By.ID, "slider")
        driver.execute_script(
            "arguments[0].value = 1; arguments[0].dispatchEvent(new Event('input'))", slider)
        wait.until(lambda d: "as it was at version 1" in d.find_element(By.ID, "detail").text)
        check("No items." in driver.find_element(By.ID, "detail").text,
              "the slider shows the session as it was at version 1")
        driver.find_element(By.ID, "check").click()
        chain = wait.until(lambda d: d.find_element(By.ID, "chain").text or None)
        check("The chain holds" in chain, f"the chain check: {chain!r}")
        shot("session")

        # Back to the present, then to its invoice.
        driver.execute_script(
            "arguments[0].value = arguments[0].max; arguments[0].dispatchEvent(new Event('input'))",
            driver.find_element(By.ID, "slider"))
        wait.until(EC.element_to_be_clickable(
            (By.CSS_SELECTOR, '#detail a[href^="#/invoice/"]'))).click()
        title = wait.until(EC.presence_of_element_located((By.CSS_SELECTOR, ".invoice h1")))
        check(title.text.startswith("Invoice INV-"), f"the invoice opens: {title.text!r}")
        check("Green tea" in driver.find_element(By.CSS_SELECTOR, ".invoice").text,
              "the invoice lists the item")
        shot("invoice")
        driver.get(server.url + "/console/#/invoices")
        number = wait.until(EC.presence_of_element_located((By.CSS_SELECTOR, "#rows a")))
        check(number.text.startswith("INV-"), "the invoices page lists it")
        shot("invoices")

        # An appointment: its join window on its page; paid in advance and
        # cancelled, the money shows as due back.
        start = (datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(minutes=2))
        booking, _ = server.call(admin, "POST", "/v1/bookings", {
            "customer_id": customer["customer_id"], "title": "Tea tasting", "duration_minutes": 30,
            "scheduled_start": start.strftime("%Y-%m-%dT%H:%M:%S.000Z"), "host_id": "host-1",
            "host_name": "Hana", "price_cents": 1000})
        appointment = booking["session_id"]
        driver.get(server.url + f"/console/#/session/{appointment}")
        window = wait.until(EC.presence_of_element_located((By.ID, "window")))
        check("join from" in window.text and "joinable now" in window.text,
              f"the session page shows the join window: {window.text!r}")
        check("Host Hana" in driver.find_element(By.ID, "detail").text, "and the host's name")
        server.call(admin, "POST", f"/v1/sessions/{appointment}/payments",
                    {"amount_cents": 1000, "method": "card"})
        server.call(admin, "POST", f"/v1/sessions/{appointment}/cancel", {})
        due = wait.until(EC.presence_of_element_located((By.ID, "refund-due")))
        check(due.text == "refund due 10.00", f"a cancelled booking paid in advance: {due.text!r}")

        # A warehouse token sees the pick list, and no board controls.
        driver.execute_script("sessionStorage.setItem('tally.token', arguments[0])", warehouse)
        driver.get(server.url + "/console/#/picklist")
        driver.refresh()
        wait.until(EC.presence_of_element_located((By.ID, "orders")))
        check("warehouse" in driver.find_element(By.ID, "who").text, "a warehouse picker signs in")

        logs = [l for l in driver.get_log("browser") if l.get("level") == "SEVERE"]
        check(not logs, f"no errors in the browser's console: {logs[:3]}")
    finally:
        if driver:
            driver.quit()
        server.stop()
        shutil.rmtree(data, ignore_errors=True)
    print(f"{len(failures)} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
