# CityPulse: `make run` starts the local stack, `make test` runs every test. See README.md.
SHELL := /bin/bash
GO ?= go
BIN := bin/citypulse
CH_DIR := var/clickhouse
CH_TCP ?= 19000
CH_HTTP ?= 18123
ECHARTS := dashboards/static/echarts.min.js
SDK_JS := ingest/sdk/js
SDK_JS_SRC := $(SDK_JS)/package.json $(SDK_JS)/package-lock.json $(SDK_JS)/tsconfig.json $(SDK_JS)/build.mjs $(wildcard $(SDK_JS)/src/*.ts)

KAFKA ?= embedded
KAFKA_DIR := var/kafka-node
KAFKA_PORT ?= 19092

.PHONY: run stop test test-engines build assets sdk-js deps test-deps bench clean

run: deps build
	@deploy/clickhouse/clickhouse.sh start $(CH_DIR) $(CH_TCP) $(CH_HTTP)
	@echo "ClickHouse: 127.0.0.1:$(CH_TCP) (data in $(CH_DIR)); stop it with: make stop"
ifeq ($(KAFKA),real)
	@deploy/kafka/kafka.sh install
	@KAFKA_PORT=$(KAFKA_PORT) deploy/kafka/kafka.sh start $(KAFKA_DIR)
	@echo "Kafka: $$(deploy/kafka/kafka.sh bootstrap $(KAFKA_DIR)) (data in $(KAFKA_DIR)); stop it with: make stop"
	$(BIN) up -clickhouse-addr 127.0.0.1:$(CH_TCP) -kafka-embedded=false -kafka-brokers $$(deploy/kafka/kafka.sh bootstrap $(KAFKA_DIR))
else
	$(BIN) up -clickhouse-addr 127.0.0.1:$(CH_TCP)
endif

stop:
	@deploy/clickhouse/clickhouse.sh stop $(CH_DIR)
	@echo "ClickHouse stopped"
	@if [ -d $(KAFKA_DIR) ]; then deploy/kafka/kafka.sh stop $(KAFKA_DIR) && echo "Kafka stopped"; fi

test: test-deps assets sdk-js
	scripts/test.sh

# Only the real-engine suites (a real Apache Kafka node and a three-broker cluster).
test-engines: test-deps assets sdk-js
	ENGINES_ONLY=1 scripts/test.sh

build: assets
	$(GO) build -o $(BIN) ./cmd/citypulse

assets: $(ECHARTS)

$(ECHARTS): dashboards/web/package.json dashboards/web/package-lock.json
	npm ci --prefix dashboards/web --no-audit --no-fund --loglevel=error
	mkdir -p dashboards/static
	cp dashboards/web/node_modules/echarts/dist/echarts.min.js $@

sdk-js: $(SDK_JS)/dist/citypulse.min.js

$(SDK_JS)/dist/citypulse.min.js: $(SDK_JS_SRC)
	npm ci --prefix $(SDK_JS) --no-audit --no-fund --loglevel=error
	npm run build --prefix $(SDK_JS)

# Benchmarks: figures go to BENCHMARKS.md with the machine and the date.
bench:
	@deploy/install.sh --bench
	scripts/bench-collector.sh --write
	scripts/bench-collector-real.sh --write
	scripts/bench-cleaning.sh --write

deps:
	@deploy/install.sh

test-deps:
	@deploy/install.sh --test
	@deploy/kafka/kafka.sh install
	@deploy/clients/install.sh
	@deploy/chdb/chdb.sh install

clean:
	rm -rf bin var/clients var/chdb dashboards/web/node_modules $(ECHARTS) $(SDK_JS)/node_modules $(SDK_JS)/dist
