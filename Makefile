# Newcomer commands: `make demo`, `make test` and `make docs` (see README.md).
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
PIP    := $(PY) -m pip
STAMP  := $(VENV)/.installed-$(shell cat pyproject.toml constraints-cpu.txt | cksum | cut -d' ' -f1)
# test-min: a second environment at the declared floors (constraints-min.txt, generated from
# pyproject.toml by tools/min_constraints.py; torch stays at constraints-cpu.txt's CPU build)
MIN_VENV  ?= .venv-min
MIN_PY    := $(MIN_VENV)/bin/python
MIN_STAMP := $(MIN_VENV)/.installed-$(shell cat pyproject.toml constraints-cpu.txt constraints-min.txt | cksum | cut -d' ' -f1)
# What test-min runs: a subset that exercises every floored package (transformers,
# safetensors, av, opencv, numpy: model and features; lightning, jsonargparse, PyYAML,
# scikit-learn, matplotlib: training incl. the SIGKILL resume; faster-whisper, ctranslate2:
# the Whisper backbone, the API's transcripts; onnxruntime: the VAD; fastapi, uvicorn, httpx,
# python-multipart: the API and a real server). The whole suite runs in `make test`.
MIN_TESTS ?= tests/features/test_extract.py tests/features/test_cache.py \
	tests/features/test_encoders.py tests/model/test_backbone.py \
	tests/model/test_backbone_depth.py tests/model/test_whisper_family.py \
	tests/model/test_serialization.py tests/model/test_losses.py tests/model/test_lvc.py \
	tests/training/test_configs.py tests/training/test_metrics.py \
	tests/inference/test_timeline.py::test_speech_segments_are_found_where_the_speech_is \
	tests/serve/test_api.py tests/serve/test_process.py::test_a_real_server_answers_and_predicts \
	tests/test_floors.py

.PHONY: venv test test-min constraints-min lint docs bench demo clean

$(STAMP): pyproject.toml constraints-cpu.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) install -q -c constraints-cpu.txt -e ".[train,pretrained,test,docs,serve]"
	rm -f $(VENV)/.installed-* && touch $(STAMP)

venv: $(STAMP)

# The browser test (tests/serve/) needs Debian's chromium + chromium-driver: it skips without
# them, except under CI=true where .ci/run installs them.
test: venv
	$(PY) -m pytest -q -ra

$(MIN_STAMP): pyproject.toml constraints-cpu.txt constraints-min.txt
	test -x $(MIN_PY) || $(PYTHON) -m venv $(MIN_VENV)
	$(MIN_PY) -m pip install -q -c constraints-cpu.txt -c constraints-min.txt -e ".[train,pretrained,test,serve]"
	rm -f $(MIN_VENV)/.installed-* && touch $(MIN_STAMP)

# The same tests on the lowest declared versions: the floors in pyproject.toml are tested.
test-min: $(MIN_STAMP)
	$(MIN_PY) -m pytest -q -ra -m "not slow" $(MIN_TESTS)

constraints-min:  # after changing a floor in pyproject.toml
	$(PYTHON) tools/min_constraints.py > constraints-min.txt

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
	$(PY) benchmarks/layer_probe.py --record  # the probe on every encoder layer, ~5 CPU min
	$(PY) benchmarks/render.py

demo: venv
	$(VENV)/bin/wavfusion demo --out demo-run

clean:
	rm -rf $(VENV) $(MIN_VENV) build site *.egg-info src/*.egg-info .pytest_cache
