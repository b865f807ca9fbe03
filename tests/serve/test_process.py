"""A real `wavfusion serve` process on a free loopback port: queried with httpx, then
driven by headless Chromium through selenium (the page's upload, label and bars), then
stopped within a bounded time. The browser part skips without Chromium, except in CI."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

httpx = pytest.importorskip("httpx")
pytest.importorskip("uvicorn")

START_SECONDS = 180  # model + encoders load on 2 busy cores
STOP_SECONDS = 15
ROOT = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def server(tiny_run):
    port = _free_port()
    env = {**os.environ, "PYTHONPATH": f"{ROOT / 'src'}{os.pathsep}{ROOT}"}
    env.pop("WAVFUSION_TOKEN", None)
    process = subprocess.Popen(
        [sys.executable, "-m", "wavfusion.cli", "serve", "--model", str(tiny_run),
         "--port", str(port), "--threads", "1"], env=env,
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + START_SECONDS
    try:
        while True:
            if process.poll() is not None:
                pytest.fail(f"serve exited {process.returncode}: {process.stdout.read()}")
            try:
                if httpx.get(url + "/healthz", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"serve did not answer within {START_SECONDS} s")
            time.sleep(0.5)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(STOP_SECONDS)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(STOP_SECONDS)
            pytest.fail(f"serve did not stop within {STOP_SECONDS} s of SIGTERM")


def test_a_real_server_answers_and_predicts(server, sample_rows):
    clip = Path(sample_rows["wav"].extra["path"])
    assert httpx.get(server + "/healthz").json()["status"] == "ok"
    assert httpx.get(server + "/v1/model").json()["labels"]
    response = httpx.post(server + "/v1/predict", timeout=120,
                          files={"file": ("clip.wav", clip.read_bytes())})
    assert response.status_code == 200, response.text
    assert response.json()["scores"][0]["label"] == response.json()["label"]
    bad = httpx.post(server + "/v1/predict", files={"file": ("x.wav", b"junk" * 10)})
    assert bad.status_code == 422
    assert httpx.get(server + "/healthz").status_code == 200


def _chromium() -> tuple[str, str] | None:
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    driver = shutil.which("chromedriver")
    return (browser, driver) if browser and driver else None


def test_the_page_in_a_real_browser(server, sample_rows, tmp_path):
    found = _chromium()
    if found is None:
        if os.environ.get("CI") == "true":
            pytest.fail("CI: chromium and chromium-driver must be installed (.ci/run does)")
        pytest.skip("Chromium not installed (apt-get install chromium chromium-driver)")
    webdriver = pytest.importorskip("selenium.webdriver")
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions
    from selenium.webdriver.support.ui import WebDriverWait

    options = webdriver.ChromeOptions()
    options.binary_location = found[0]
    for flag in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage",
                 "--window-size=1000,1100", "--disable-gpu"):
        options.add_argument(flag)
    browser = webdriver.Chrome(options=options, service=webdriver.ChromeService(found[1]))
    try:
        browser.set_page_load_timeout(60)
        browser.get(server + "/")
        wait = WebDriverWait(browser, 120)
        wait.until(lambda page: page.find_element(By.ID, "model").text.startswith("Model "))
        clip = Path(sample_rows["wav"].extra["path"])
        browser.find_element(By.ID, "file").send_keys(str(clip))
        browser.find_element(By.ID, "transcript").send_keys("I can't believe you did that")
        wait.until(expected_conditions.element_to_be_clickable((By.ID, "send"))).click()
        wait.until(lambda page: page.find_element(By.ID, "status").text in ("Done.",)
                   or page.find_element(By.ID, "status").text.startswith("Not predicted"))
        assert browser.find_element(By.ID, "status").text == "Done."
        label = browser.find_element(By.ID, "label").text
        bars = browser.find_elements(By.CSS_SELECTOR, "#bars .bar")
        labels = [bar.get_attribute("data-label") for bar in bars]
        browser.save_screenshot(str(tmp_path / "page.png"))
    finally:
        browser.quit()
    model = httpx.get(server + "/v1/model").json()
    assert label in model["labels"]
    assert sorted(labels) == sorted(model["labels"]) and labels[0] == label
    assert (tmp_path / "page.png").stat().st_size > 0
