# CityFrame: `make run` installs everything and opens the app on the small
# sample city; `make test` installs everything and runs the whole test suite.
VENV   ?= .venv
PY     := $(VENV)/bin/python
SAMPLE ?= small

.PHONY: setup run screenshot test bench clean

setup:
	./.ci/setup

run: setup
	@if [ -z "$$DISPLAY$$WAYLAND_DISPLAY" ]; then \
	  echo "No display: running under xvfb-run (invisible). Use a desktop session to see the window."; \
	  xvfb-run -a -s "-screen 0 1600x1000x24" $(PY) main.py --sample $(SAMPLE); \
	else $(PY) main.py --sample $(SAMPLE); fi

screenshot: setup
	QT_QPA_PLATFORM=offscreen $(PY) main.py --sample $(SAMPLE) --screenshot $(or $(OUT),screenshot.png)

test: setup
	QT_QPA_PLATFORM=offscreen $(PY) -m pytest -q -p no:cacheprovider

bench: setup
	$(PY) benchmarks/generate_metro.py

clean:
	rm -rf $(VENV) build *.egg-info
