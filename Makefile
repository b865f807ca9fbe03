# Newcomer commands: `make demo`, `make test` and `make docs` (see README.md).
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
PIP    := $(PY) -m pip
STAMP  := $(VENV)/.installed-$(shell cat pyproject.toml constraints-cpu.txt | cksum | cut -d' ' -f1)

.PHONY: venv test lint docs bench demo clean

$(STAMP): pyproject.toml constraints-cpu.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) install -q -c constraints-cpu.txt -e ".[train,pretrained,test,docs,serve]"
	rm -f $(VENV)/.installed-* && touch $(STAMP)

venv: $(STAMP)

# The browser test (tests/serve/) needs Debian's chromium + chromium-driver: it skips without
# them, except under CI=true where .ci/run installs them.
test: venv
	$(PY) -m pytest -q -ra

lint: venv
	$(PY) -m ruff check src tests benchmarks

docs: venv
	$(PY) benchmarks/render.py
	NO_MKDOCS_2_WARNING=1 $(PY) -m mkdocs build --strict --site-dir site

bench: venv
	$(PY) benchmarks/startup.py
	$(PY) benchmarks/model_step.py
	$(PY) benchmarks/epoch_time.py
	$(PY) benchmarks/extract_throughput.py
	$(PY) benchmarks/backbone_cost.py
	$(PY) benchmarks/cache_memory.py
	$(PY) benchmarks/predict_latency.py
	$(PY) benchmarks/timeline.py --record  # 10-min RAVDESS recording, --transcribe, 1 vs 60 min RSS
	$(PY) benchmarks/serve_load.py --record  # 50 clients x 10 5-s clips + 20 bad uploads
	$(PY) benchmarks/ravdess_probe.py --train-every 4  # both windows, ~10 min
	$(PY) benchmarks/generalisation.py --folds A,B --seeds 0,1,2 --record  # ~6 x 10 CPU min
	$(PY) benchmarks/render.py

demo: venv
	$(VENV)/bin/wavfusion demo --out demo-run

clean:
	rm -rf $(VENV) build site *.egg-info src/*.egg-info .pytest_cache
