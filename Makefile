# The project's commands. `make run` and `make test` are the two a new machine needs.
VENV    ?= .venv
PY      := $(VENV)/bin/python
PORT    ?= 5000
export PORT
# Test processes (pytest-xdist): one per core by default; PYTEST_WORKERS=0 runs serially.
PYTEST_WORKERS ?= auto

.PHONY: run test lint bench bench-quick bench-takein bench-takein-quick bench-registry \
	bench-registry-quick bench-console bench-console-quick bench-exports bench-exports-quick \
	bench-printing bench-production bench-production-quick bench-manifest bench-manifest-quick \
	system-deps clean

$(VENV)/.installed: pyproject.toml
	python3 -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --upgrade pip
	$(VENV)/bin/pip install --quiet -e ".[test]"
	touch $@

# Start the server with demo data on the embedded defaults (SQLite, instance/media); the console
# opens at http://HOST:PORT/ (plain http here, so the session cookie is not https-only).
run: $(VENV)/.installed
	$(VENV)/bin/fangpin demo
	SESSION_COOKIE_SECURE=0 LOG_FORMAT=text $(VENV)/bin/gunicorn --bind 0.0.0.0:$(PORT) \
		--workers 2 --worker-class gthread --threads 8 --access-logfile - \
		--logger-class server.logs.GunicornLogger wsgi:app

# What the tests use from the system, installed with apt when missing (Debian/Ubuntu; root):
# PostgreSQL's server binaries, zbarimg to scan the Collect settings QR codes, Java for ODK
# Validate (JavaRosa, Collect's form engine), Node.js for ODK Web Forms' engine, and Chromium
# with the Noto CJK fonts for the console's browser tests and screenshots (Playwright drives
# /usr/bin/chromium; it never downloads a browser); pango for WeasyPrint (the printed forms) and
# poppler-utils (pdftotext, pdfinfo, pdfimages, pdftoppm) for their tests; nginx and openssl for
# the production path's test (deploy/: the shipped site with TLS in front of two instances).
system-deps:
	@missing=""; \
	command -v initdb >/dev/null 2>&1 || ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 \
		|| missing="$$missing postgresql"; \
	command -v zbarimg >/dev/null 2>&1 || missing="$$missing zbar-tools"; \
	command -v java >/dev/null 2>&1 || missing="$$missing default-jre-headless"; \
	command -v npm >/dev/null 2>&1 || missing="$$missing nodejs npm"; \
	test -x /usr/bin/chromium || missing="$$missing chromium"; \
	test -e /usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc \
		|| missing="$$missing fonts-noto-cjk"; \
	ls /usr/lib/*/libpango-1.0.so.0 >/dev/null 2>&1 || missing="$$missing libpango-1.0-0"; \
	ls /usr/lib/*/libpangoft2-1.0.so.0 >/dev/null 2>&1 || missing="$$missing libpangoft2-1.0-0"; \
	command -v pdftotext >/dev/null 2>&1 || missing="$$missing poppler-utils"; \
	test -x /usr/sbin/nginx || command -v nginx >/dev/null 2>&1 || missing="$$missing nginx"; \
	command -v openssl >/dev/null 2>&1 || missing="$$missing openssl"; \
	if [ -n "$$missing" ]; then \
		echo "installing:$$missing"; \
		apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q $$missing; \
	fi

tests/engine/node_modules/.installed: tests/engine/package-lock.json
	cd tests/engine && npm ci --silent --no-audit --no-fund
	touch $@

# Every test, against SQLite and a throwaway PostgreSQL, local and S3 media; then the linters.
# The tests run in PYTEST_WORKERS processes, each with its own PostgreSQL cluster and S3 server;
# loadgroup keeps each xdist_group (a form module's one engine run, say) on one worker.
# `$(PY) -m pytest` alone runs the same tests serially.
test: system-deps $(VENV)/.installed tests/engine/node_modules/.installed
	$(PY) -m pytest -n $(PYTEST_WORKERS) --dist loadgroup
	$(VENV)/bin/ruff check .
	$(VENV)/bin/lint-imports

lint: $(VENV)/.installed
	$(VENV)/bin/ruff check .
	$(VENV)/bin/lint-imports

# Submissions (issue 3) against a floor, then the take-in (issue 16): `make bench`'s headline is
# the sustained rate including the take-in (bench_takein's, printed last); answering alone
# against the floor (bench_submissions') is the second figure.
bench: system-deps $(VENV)/.installed
	$(PY) -m tests.bench.bench_submissions
	$(PY) -m tests.bench.bench_takein

bench-quick: system-deps $(VENV)/.installed
	$(PY) -m tests.bench.bench_submissions --quick
	$(PY) -m tests.bench.bench_takein --quick

# The take-in alone (issue 16): the worker alone (households/s, CPU per household) and the
# sustained rate with the worker beside gunicorn (60 s at concurrency 16, then the drain), inline
# beside it; 3 runs and their median.
bench-takein: system-deps $(VENV)/.installed
	$(PY) -m tests.bench.bench_takein

bench-takein-quick: system-deps $(VENV)/.installed
	$(PY) -m tests.bench.bench_takein --quick

# The registry (issue 5): ingest through HTTP at 0, 100 000 and 1 000 000 people; re-check at 1M.
bench-registry: system-deps $(VENV)/.installed
	$(PY) -m tests.bench.bench_registry

bench-registry-quick: system-deps $(VENV)/.installed
	$(PY) -m tests.bench.bench_registry --quick

# The console's pages (issue 13) with 250 000 households and 20 000 open cases: p95 of the
# queue, case, household pages (< 150 ms) and the dashboard (< 500 ms).
bench-console: system-deps $(VENV)/.installed
	$(PY) -m tests.bench.bench_console

bench-console-quick: system-deps $(VENV)/.installed
	$(PY) -m tests.bench.bench_console --quick

# The county exports (issue 14): 1 000 000 members (250 000 households) to CSV and XLSX on
# PostgreSQL (and 50 000 households on SQLite): CSV ≤ 2× the bare query, XLSX < 3 min,
# peak RSS < 300 MB.
bench-exports: system-deps $(VENV)/.installed
	$(PY) -m tests.bench.bench_exports

bench-exports-quick: system-deps $(VENV)/.installed
	$(PY) -m tests.bench.bench_exports --quick

# The printed forms (docs/benchmarks.md): one 附件3, and a village of 200 households as one PDF.
bench-printing: system-deps $(VENV)/.installed
	$(PY) -m tests.bench.bench_printing

# The production path (issue 15.13): concurrency 64 through nginx (TLS) to two gunicorns, both
# take-in modes, XML only and with media; then a soak of 20/s for 10 minutes (RSS, fds, PostgreSQL
# connections sampled every 10 s). Needs nginx (system-deps).
bench-production: system-deps $(VENV)/.installed
	$(PY) -m tests.bench.bench_production

bench-production-quick: system-deps $(VENV)/.installed
	$(PY) -m tests.bench.bench_production --quick

# The phones' manifest checks (issue 16): a helper's manifest listing households.csv for an
# area of 500 / 2 000 / 20 000 households at concurrency 8 (p99 < 30 ms at 20 000; CPU per
# request independent of the size). BEFORE=<commit> also measures that older code.
bench-manifest: system-deps $(VENV)/.installed
	$(PY) -m tests.bench.bench_manifest $(if $(BEFORE),--before $(BEFORE))

bench-manifest-quick: system-deps $(VENV)/.installed
	$(PY) -m tests.bench.bench_manifest --quick $(if $(BEFORE),--before $(BEFORE))

clean:
	rm -rf $(VENV) instance .pytest_cache .hypothesis .ruff_cache tests/engine/node_modules
