"""A real `wavfusion serve` process on a free loopback port: queried with httpx, then
driven by headless Chromium through selenium (an uploaded clip's label and bars, a long
recording's timeline and its seeking player, the microphone), then stopped within a bounded
time. The browser part skips without Chromium, except in CI."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import wave
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


@pytest.fixture(scope="module")
def browser(server):
    """Headless Chromium on the page, with a fake microphone (a tone) that needs no prompt."""
    found = _chromium()
    if found is None:
        if os.environ.get("CI") == "true":
            pytest.fail("CI: chromium and chromium-driver must be installed (.ci/run does)")
        pytest.skip("Chromium not installed (apt-get install chromium chromium-driver)")
    webdriver = pytest.importorskip("selenium.webdriver")
    options = webdriver.ChromeOptions()
    options.binary_location = found[0]
    for flag in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage",
                 "--window-size=1000,1300", "--disable-gpu",
                 "--autoplay-policy=no-user-gesture-required", "--use-fake-ui-for-media-stream",
                 "--use-fake-device-for-media-stream"):
        options.add_argument(flag)
    driver = webdriver.Chrome(options=options, service=webdriver.ChromeService(found[1]))
    driver.set_page_load_timeout(60)
    try:
        yield driver
    finally:
        driver.quit()


def _open(browser, server):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    browser.get(server + "/")
    wait = WebDriverWait(browser, 120)
    wait.until(lambda page: page.find_element(By.ID, "model").text.startswith("Model "))
    return wait, By


def _predict_on_page(browser, wait, by) -> None:
    from selenium.webdriver.support import expected_conditions

    wait.until(expected_conditions.element_to_be_clickable((by.ID, "send"))).click()
    wait.until(lambda page: page.find_element(by.ID, "status").text == "Done."
               or page.find_element(by.ID, "status").text.startswith("Not predicted"))
    assert browser.find_element(by.ID, "status").text == "Done."


def _long_recording(clip: Path, target: Path, copies: int = 6) -> Path:
    """`copies` of the clip, each followed by 1 s of silence: long enough for 3 windows."""
    with wave.open(str(clip)) as source:
        params, frames = source.getparams(), source.readframes(source.getnframes())
    silence = b"\0" * (params.sampwidth * params.nchannels * params.framerate)
    with wave.open(str(target), "wb") as out:
        out.setparams(params)
        out.writeframes((frames + silence) * copies)
    return target


def test_the_page_predicts_an_uploaded_clip(server, browser, sample_rows, tmp_path):
    wait, by = _open(browser, server)
    clip = Path(sample_rows["wav"].extra["path"])
    browser.find_element(by.ID, "file").send_keys(str(clip))
    browser.find_element(by.ID, "transcript").send_keys("I can't believe you did that")
    _predict_on_page(browser, wait, by)
    label = browser.find_element(by.ID, "label").text
    labels = [bar.get_attribute("data-label")
              for bar in browser.find_elements(by.CSS_SELECTOR, "#bars .bar")]
    assert browser.find_element(by.ID, "timeline").is_displayed() is False
    assert browser.find_element(by.ID, "transcribe-box").is_displayed() is False  # no Whisper
    browser.save_screenshot(str(tmp_path / "page.png"))
    model = httpx.get(server + "/v1/model").json()
    assert label in model["labels"]
    assert sorted(labels) == sorted(model["labels"]) and labels[0] == label
    assert (tmp_path / "page.png").stat().st_size > 0


def test_the_page_shows_a_timeline_and_a_click_seeks_the_player(server, browser, sample_rows,
                                                                  tmp_path):
    from selenium.webdriver.support.ui import Select

    recording = _long_recording(Path(sample_rows["wav"].extra["path"]), tmp_path / "long.wav")
    expected = httpx.post(server + "/v1/predict", data={"segments": "fixed"}, timeout=120,
                          files={"file": ("long.wav", recording.read_bytes())}).json()
    assert len(expected["segments"]) >= 3
    wait, by = _open(browser, server)
    browser.find_element(by.ID, "file").send_keys(str(recording))
    Select(browser.find_element(by.ID, "segment-mode")).select_by_value("fixed")
    _predict_on_page(browser, wait, by)
    assert browser.find_element(by.ID, "timeline").is_displayed()
    rows = browser.find_elements(by.CSS_SELECTOR, "#segments tr")
    pieces = browser.find_elements(by.CSS_SELECTOR, "#band div")
    assert len(rows) == len(pieces) == len(expected["segments"])
    assert [row.find_elements(by.TAG_NAME, "td")[2].text for row in rows] == [
        segment["label"] for segment in expected["segments"]]
    assert browser.find_element(by.ID, "label").text == expected["summary"]["dominant"]
    player = "return document.querySelector('#player audio')"
    wait.until(lambda page: page.execute_script(player + ".readyState") >= 1)
    browser.execute_script("arguments[0].scrollIntoView({block: 'center'})", rows[2])
    rows[2].click()
    start = expected["segments"][2]["start"]
    wait.until(lambda page: abs(page.execute_script(player + ".currentTime") - start) < 0.5)
    browser.execute_script("arguments[0].scrollIntoView({block: 'center'})", pieces[1])
    pieces[1].click()
    start = expected["segments"][1]["start"]
    wait.until(lambda page: abs(page.execute_script(player + ".currentTime") - start) < 0.5)
    browser.save_screenshot(str(tmp_path / "timeline.png"))
    assert (tmp_path / "timeline.png").stat().st_size > 0


def test_the_page_records_from_the_microphone_and_predicts(server, browser):
    import time as clock

    from selenium.webdriver.support.ui import Select

    wait, by = _open(browser, server)
    record = browser.find_element(by.ID, "record")
    record.click()
    wait.until(lambda page: record.text == "Stop recording"
               or page.find_element(by.ID, "status").text.startswith("No microphone"))
    assert record.text == "Stop recording", browser.find_element(by.ID, "status").text
    clock.sleep(1.5)  # the fake device's tone
    record.click()
    wait.until(lambda page: page.find_element(by.ID, "status").text.startswith("Ready: recording"))
    Select(browser.find_element(by.ID, "segment-mode")).select_by_value("off")
    _predict_on_page(browser, wait, by)
    assert browser.find_element(by.ID, "label").text in httpx.get(server + "/v1/model").json()[
        "labels"]
