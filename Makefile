# CityPulse: `make run` starts the local stack, `make test` runs every test. See README.md.
SHELL := /bin/bash
GO ?= go
BIN := bin/citypulse
CH_DIR := var/clickhouse
CH_TCP ?= 19000
CH_HTTP ?= 18123
ECHARTS := dashboards/static/echarts.min.js

.PHONY: run stop test build assets deps test-deps bench clean

run: deps build
	@deploy/clickhouse/clickhouse.sh start $(CH_DIR) $(CH_TCP) $(CH_HTTP)
	@echo "ClickHouse: 127.0.0.1:$(CH_TCP) (data in $(CH_DIR)); stop it with: make stop"
	$(BIN) up -clickhouse-addr 127.0.0.1:$(CH_TCP)

stop:
	@deploy/clickhouse/clickhouse.sh stop $(CH_DIR)
	@echo "ClickHouse stopped"

test: test-deps assets
	scripts/test.sh

build: assets
	$(GO) build -o $(BIN) ./cmd/citypulse

assets: $(ECHARTS)

$(ECHARTS): dashboards/web/package.json dashboards/web/package-lock.json
	npm ci --prefix dashboards/web --no-audit --no-fund --loglevel=error
	mkdir -p dashboards/static
	cp dashboards/web/node_modules/echarts/dist/echarts.min.js $@

deps:
	@deploy/install.sh

test-deps:
	@deploy/install.sh --test

clean:
	rm -rf bin dashboards/web/node_modules $(ECHARTS)
