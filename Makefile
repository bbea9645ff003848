# CityFrame: `make run` installs everything and opens the app on the small
# sample city; `make test` installs everything and runs the whole test suite.
VENV   ?= .venv
PY     := $(VENV)/bin/python
SAMPLE ?= small

.PHONY: setup run test bench clean

setup:
	./.ci/setup

run: setup
	$(PY) main.py --sample $(SAMPLE)

test: setup
	QT_QPA_PLATFORM=offscreen $(PY) -m pytest -q -p no:cacheprovider

bench: setup
	$(PY) benchmarks/generate_metro.py

clean:
	rm -rf $(VENV) build *.egg-info
