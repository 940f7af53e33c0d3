# Kaskad. `make run` starts everything on one machine; `make test` runs the suite.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8000

.PHONY: run test bench faults lint format venv migrate demo clean messages translations

$(BIN)/activate: requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements.txt
	touch $(BIN)/activate

venv: $(BIN)/activate

# Translations: `make messages` collects every string into its app's catalogue (<app>/locale, or
# locale/ for top-level templates); `make translations` compiles them (run, test and CI do).
MESSAGES_IGNORE := -i ".venv/*" -i "var/*" -i "benchmarks/*" -i "tests/*" -i "static/*"
messages: venv
	$(BIN)/python manage.py makemessages -l ru -l ro --no-obsolete --add-location file $(MESSAGES_IGNORE)

translations: venv
	cd $(CURDIR) && $(BIN)/django-admin compilemessages --ignore=.venv --ignore=var -v 0

# Web + Celery worker + beat on SQLite and the embedded broker, with demo data and a staff login.
# The first run writes .env (DEBUG=1, a random SECRET_KEY) so every manage.py command works too.
# The URL and the login are printed once the server answers; Ctrl-C stops everything.
# Another port: make run PORT=8080
run: export DEBUG ?= 1
run: export PORT := $(PORT)
run: venv translations
	@$(BIN)/python -m config.devrun env
	@$(BIN)/python manage.py migrate --no-input -v 0
	@$(BIN)/python manage.py sync_periodic_tasks
	@$(BIN)/python manage.py load_demo_data
	@$(BIN)/python manage.py load_channels_demo
	@$(BIN)/python manage.py load_campaigns_demo
	@$(BIN)/python manage.py load_analytics_demo
	@$(BIN)/python manage.py attribution_rebuild
	@$(BIN)/python manage.py rollups_rebuild
	@$(BIN)/python manage.py ensure_demo_login > /dev/null
	@echo "Starting web, worker and beat on port $(PORT)…"
	@exec $(BIN)/python -m config.devrun start

test: venv translations
	$(BIN)/pytest

bench: venv
	$(BIN)/pip install --quiet -r requirements-bench.txt
	$(BIN)/python -m benchmarks.ingest
	$(BIN)/python -m benchmarks.segments
	$(BIN)/python -m benchmarks.send
	$(BIN)/python -m benchmarks.pages
	$(BIN)/python -m benchmarks.broadcast
	$(BIN)/python -m benchmarks.journeys

# Fault injection: campaigns through real workers and beat while a worker is killed, the broker
# goes down or the gateway misbehaves (benchmarks/faults; about 14 minutes, not part of `make test`).
faults: venv
	$(BIN)/python -m benchmarks.faults

lint: venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: venv
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

clean:
	rm -rf var
