# Two commands do everything on a fresh machine:  make run  and  make test.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
ARTICLES ?= seeds
INDEX    ?= index
PORT     ?= 7860
# The seeds' own page texts; another archive describes itself (or has INDEX/page.toml).
PAGE_CONFIG ?= $(if $(filter seeds,$(ARTICLES)),seeds/page.toml)

.PHONY: install index run serve test lint bench-quality bench-speed bench-archive screenshot clean

install: $(VENV)/.installed

# torch first, from the CPU build: a bare torch requirement would pull a multi-GB CUDA build.
$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q torch==2.13.0
	$(BIN)/python -m pip install -q -e ".[ui,test]"
	touch $@

index: install
	$(BIN)/diploqa index --articles $(ARTICLES) --index $(INDEX)

run: index
	$(BIN)/diploqa serve --articles $(ARTICLES) --index $(INDEX) --port $(PORT) \
		$(if $(PAGE_CONFIG),--page-config $(PAGE_CONFIG))

serve: run

# Two workers (the test machine's two cores), each taking whole files (module-scoped servers
# start once); TEST_WORKERS=0: one process. Three made the Chromium tests time out on two cores.
TEST_WORKERS ?= 2
test: install
	$(BIN)/python -m pytest $(if $(filter-out 0,$(TEST_WORKERS)),-n $(TEST_WORKERS) --dist loadfile)

lint: install
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks

# Benchmarks read ../shared/data by path (DATA=... to point elsewhere); results go to docs/.
DATA ?= ../shared/data

bench-quality: install
	$(BIN)/python benchmarks/quality.py --xquad $(DATA)/xquad --ntrex $(DATA)/ntrex --out docs/quality.md

# About 30 minutes on 2 cores; the results section of docs/benchmarks.md is written from its output.
bench-speed: install
	$(BIN)/python benchmarks/speed.py --data $(DATA)/news_de --xquad $(DATA)/xquad --reps 3 \
		--json docs/benchmarks.json --out docs/benchmarks.md

# Archive features: ingest the shared news as files and as one JSONL, filter latency at 100k.
bench-archive: install
	$(BIN)/python benchmarks/ingest.py --data $(DATA)/news_de --out docs/benchmarks.md
	$(BIN)/python benchmarks/filters.py --out docs/benchmarks.md
	$(BIN)/python benchmarks/duplicates.py $(DATA)/news_de --ntrex $(DATA)/ntrex

# The README's picture, on an archive that is not the seeds: the shared German Wikinews articles.
WIKINEWS := build/wikinews
screenshot: install
	mkdir -p $(WIKINEWS)/articles
	cp $(DATA)/news_de/dewikinews_quotes/articles.jsonl $(WIKINEWS)/articles/wikinews.jsonl
	$(BIN)/diploqa index --articles $(WIKINEWS)/articles --index $(WIKINEWS)/index
	$(BIN)/python benchmarks/screenshot.py --articles $(WIKINEWS)/articles \
		--index $(WIKINEWS)/index --question "Wann startete die Raumfähre Discovery wieder ins All?" \
		--out docs/screenshot.png

clean:
	rm -rf $(VENV) $(INDEX)/gen-* $(INDEX)/manifest.json .pytest_cache
