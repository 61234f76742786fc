# Two commands do all the set-up on a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
ARCHIVE_DB ?= examples/demo.db
SYSTEM_PACKAGES := espeak-ng sox ffmpeg chromium

.PHONY: install system-deps demo test benchmark benchmark-long benchmark-alignment benchmark-search benchmark-sql-guards benchmark-pages benchmark-search-scale benchmark-backlog clean

$(BIN)/archive: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test,bench]'
	touch $(BIN)/archive

install: $(BIN)/archive

# Tools the tests drive for real (speech synthesis, audio editing, a browser).
system-deps:
	@missing=""; for tool in espeak-ng sox ffmpeg chromium; do \
	  command -v $$tool >/dev/null || missing="$$missing $$tool"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing system packages:$$missing" >&2; \
	  if [ "$$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi; \
	  $$SUDO apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $(SYSTEM_PACKAGES) >/dev/null; \
	fi

demo: install
	$(BIN)/archive ingest examples/narrated-archive.mp3 --notes examples/narrated-archive-notes.txt \
	  --id example:narrated-archive --db $(ARCHIVE_DB)
	$(BIN)/archive chapters example:narrated-archive --db $(ARCHIVE_DB)
	$(BIN)/archive search '"full text"' --db $(ARCHIVE_DB)
	$(BIN)/archive serve --db $(ARCHIVE_DB)

test: install system-deps
	$(BIN)/python -m pytest

benchmark: install
	$(BIN)/python benchmarks/ingest.py

# Hours of work on two cores: recall, speed and resume on 90 minutes, memory up to 3 hours.
benchmark-long: install system-deps
	$(BIN)/python benchmarks/long_episode.py recall --minutes 90
	$(BIN)/python benchmarks/long_episode.py memory --minutes 30 90 180

benchmark-alignment: install system-deps
	$(BIN)/python benchmarks/alignment.py

benchmark-search: install
	$(BIN)/python benchmarks/search_load.py

benchmark-sql-guards: install
	$(BIN)/python benchmarks/sql_guards.py

SCALE_ARCHIVE := benchmarks/.cache/scale-1000h-s1-v1-indexed-fd-cd.db

# The results page on the default synthetic archive (120 episodes), then on the 1,000-hour
# one (a copy of what benchmark-search-scale caches; that target builds it if missing).
benchmark-pages: install
	$(BIN)/python benchmarks/search_pages.py
	test -f $(SCALE_ARCHIVE) || $(MAKE) benchmark-search-scale
	$(BIN)/python benchmarks/search_pages.py --db $(SCALE_ARCHIVE)

# Builds (once, cached in benchmarks/.cache) a synthetic 1,000-hour archive: minutes.
benchmark-search-scale: install
	$(BIN)/python benchmarks/search_scale.py --hours 1000

# Ray's runs start in a network namespace of their own (root), where only loopback exists.
benchmark-backlog: install
	$(BIN)/python benchmarks/backlog.py

clean:
	rm -rf $(VENV) *.egg-info examples/demo.db test-artifacts benchmarks/.cache
