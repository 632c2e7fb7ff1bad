# tally — federated counts over hospital Baseline DBs.
#
#   make            build bin/tally, bin/tally-broker, bin/tally-node
#   make deps       install missing Debian packages (idempotent)
#   make test       deps, then unit + integration tests, twice: plain and
#                   under AddressSanitizer + UndefinedBehaviorSanitizer
#   make bench      deps, then the side-by-side benchmarks in bench/
#   make demo       deps, build, PKI, 43 hospitals, network, sample query
#   make demo-stop  stop what make demo started
#   make install    programs, man pages, examples (PREFIX, DESTDIR)
#
# Sources are found by wildcard: lib/SUBSYSTEM/*.c is the shared library
# (one folder per subsystem, each with a README.md), one folder per
# program, tests/unit/test_*.c each become one cmocka binary.

PKGS	 = libzmq libprotobuf-c openssl sqlite3 jansson libmicrohttpd
TESTPKGS = cmocka

# Build variant: O is the object folder, BIN where programs go.
O	?= build/rel
BIN	?= bin
SAN	?=
OPT	?= -O2 -g

CC	?= cc
# Parallel compile jobs for the builds make test and make fuzz start.
JOBS	?= $(shell nproc 2>/dev/null || echo 2)
# V=1 shows whole command lines.
ifeq ($(V),1)
Q =
E = @:
else
Q = @
E = @echo
endif
PKGCONF	?= pkg-config
PROTOC	?= protoc-c

# Evaluated lazily so that `make deps` in the same run can come first.
PKG_CFLAGS = $(shell $(PKGCONF) --cflags $(PKGS))
PKG_LIBS   = $(shell $(PKGCONF) --libs $(PKGS))
TEST_LIBS  = $(shell $(PKGCONF) --libs $(TESTPKGS))

WARN	= -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes \
	  -Wmissing-prototypes -Wpointer-arith -Wformat=2 -Wvla
ifeq ($(SAN),1)
SANFLAGS = -fsanitize=address,undefined -fno-sanitize-recover=all \
	   -fno-omit-frame-pointer
OPT	 = -O1 -g
endif
CFLAGS_ALL = -std=c11 -pthread -D_DEFAULT_SOURCE -D_FILE_OFFSET_BITS=64 $(OPT) \
	     $(WARN) $(SANFLAGS) -Iinclude -I$(O)/proto $(PKG_CFLAGS) \
	     -MMD -MP $(CFLAGS)
LDFLAGS_ALL = $(SANFLAGS) -pthread $(LDFLAGS)

PROTO_SRC = proto/tally.proto
PROTO_C	  = $(O)/proto/tally.pb-c.c
PROTO_H	  = $(O)/proto/tally.pb-c.h

LIB_SRC	 = $(sort $(wildcard lib/*/*.c))
# The subsystems of lib/. A subsystem's object sees its own folder's
# private headers (-I of its folder) and include/, nobody else's;
# white-box tests and fuzz targets see them all.
LIB_DIRS = $(sort $(patsubst %/,%,$(dir $(LIB_SRC))))
LIB_PRIV = $(addprefix -I,$(LIB_DIRS))
LIB_OBJ	 = $(LIB_SRC:%.c=$(O)/%.o) $(O)/proto/tally.pb-c.o
LIB_A	 = $(O)/libtally.a

CLI_OBJ	   = $(patsubst %.c,$(O)/%.o,$(sort $(wildcard cli/*.c)))
BROKER_OBJ = $(patsubst %.c,$(O)/%.o,$(sort $(wildcard broker/*.c)))
NODE_OBJ   = $(patsubst %.c,$(O)/%.o,$(sort $(wildcard node/*.c)))

PROGS	= $(BIN)/tally $(BIN)/tally-broker $(BIN)/tally-node

UNIT_SRC = $(sort $(wildcard tests/unit/test_*.c))
UNIT_BIN = $(UNIT_SRC:tests/unit/%.c=$(O)/tests/%)
# Helper programs the integration tests start (tests/progs/NAME.c).
PROG_SRC = $(sort $(wildcard tests/progs/*.c))
PROG_BIN = $(PROG_SRC:tests/progs/%.c=$(O)/progs/%)
# Benchmark drivers (bench/NAME.c), built by make bench.
BENCH_SRC = $(sort $(wildcard bench/*.c))
BENCH_BIN = $(BENCH_SRC:bench/%.c=$(O)/bench/%)
TESTLIB_SRC = $(sort $(wildcard tests/lib/*.c))
TESTLIB_OBJ = $(TESTLIB_SRC:%.c=$(O)/%.o)

.PHONY: all deps test test-rel test-san unit bench bench-progs demo demo-stop fuzz \
	fuzz-smoke format format-check clean check-pkgs install
.DEFAULT_GOAL := all

all: check-pkgs $(PROGS)

check-pkgs:
	@$(PKGCONF) --exists $(PKGS) || { \
	  echo "missing libraries ($(PKGS)); run 'make deps' first" >&2; \
	  exit 1; }
	@command -v $(PROTOC) >/dev/null || { \
	  echo "missing $(PROTOC); run 'make deps' first" >&2; exit 1; }

deps:
	@scripts/deps.sh

$(PROTO_C) $(PROTO_H): $(PROTO_SRC)
	@mkdir -p $(O)/proto
	$(E) "  PROTOC  $<"
	$(Q)$(PROTOC) --proto_path=proto --c_out=$(O)/proto $(PROTO_SRC)

# Every object may include the generated header.
$(LIB_OBJ) $(CLI_OBJ) $(BROKER_OBJ) $(NODE_OBJ) $(TESTLIB_OBJ): $(PROTO_H)

$(O)/proto/tally.pb-c.o: $(PROTO_C)
	$(E) "  CC      $@"
	$(Q)$(CC) $(CFLAGS_ALL) -Wno-missing-prototypes -c -o $@ $<

$(O)/lib/%.o: lib/%.c
	@mkdir -p $(dir $@)
	$(E) "  CC      $@"
	$(Q)$(CC) $(CFLAGS_ALL) -I$(patsubst %/,%,$(dir $<)) -c -o $@ $<

$(O)/%.o: %.c
	@mkdir -p $(dir $@)
	$(E) "  CC      $@"
	$(Q)$(CC) $(CFLAGS_ALL) -c -o $@ $<

$(LIB_A): $(LIB_OBJ)
	@rm -f $@
	$(E) "  AR      $@"
	$(Q)$(AR) rcs $@ $^

$(BIN)/tally: $(CLI_OBJ) $(LIB_A)
	@mkdir -p $(BIN)
	$(E) "  LD      $@"
	$(Q)$(CC) $(LDFLAGS_ALL) -o $@ $^ $(PKG_LIBS) -lm

$(BIN)/tally-broker: $(BROKER_OBJ) $(LIB_A)
	@mkdir -p $(BIN)
	$(E) "  LD      $@"
	$(Q)$(CC) $(LDFLAGS_ALL) -o $@ $^ $(PKG_LIBS) -lm

$(BIN)/tally-node: $(NODE_OBJ) $(LIB_A)
	@mkdir -p $(BIN)
	$(E) "  LD      $@"
	$(Q)$(CC) $(LDFLAGS_ALL) -o $@ $^ $(PKG_LIBS) -lm

# Unit tests of a program's own modules link that program's objects
# (all but main.o): tests/unit/test_broker_*.c, tests/unit/test_node_*.c.
$(O)/tests/test_broker_%: tests/unit/test_broker_%.c $(TESTLIB_OBJ) \
    $(filter-out %/main.o,$(BROKER_OBJ)) $(LIB_A)
	@mkdir -p $(dir $@)
	$(E) "  CCLD    $@"
	$(Q)$(CC) $(CFLAGS_ALL) -Itests/lib $(LIB_PRIV) -Ibroker $(LDFLAGS_ALL) -o $@ $< \
	    $(TESTLIB_OBJ) $(filter-out %/main.o,$(BROKER_OBJ)) $(LIB_A) \
	    $(TEST_LIBS) $(PKG_LIBS) -lm

$(O)/tests/test_node_%: tests/unit/test_node_%.c $(TESTLIB_OBJ) \
    $(filter-out %/main.o,$(NODE_OBJ)) $(LIB_A)
	@mkdir -p $(dir $@)
	$(E) "  CCLD    $@"
	$(Q)$(CC) $(CFLAGS_ALL) -Itests/lib $(LIB_PRIV) -Inode $(LDFLAGS_ALL) -o $@ $< \
	    $(TESTLIB_OBJ) $(filter-out %/main.o,$(NODE_OBJ)) $(LIB_A) \
	    $(TEST_LIBS) $(PKG_LIBS) -lm

$(O)/tests/%: tests/unit/%.c $(TESTLIB_OBJ) $(LIB_A)
	@mkdir -p $(dir $@)
	$(E) "  CCLD    $@"
	$(Q)$(CC) $(CFLAGS_ALL) -Itests/lib $(LIB_PRIV) $(LDFLAGS_ALL) -o $@ $< \
	    $(TESTLIB_OBJ) $(LIB_A) $(TEST_LIBS) $(PKG_LIBS) -lm

$(O)/progs/%: tests/progs/%.c $(TESTLIB_OBJ) $(LIB_A)
	@mkdir -p $(dir $@)
	$(E) "  CCLD    $@"
	$(Q)$(CC) $(CFLAGS_ALL) -Itests/lib $(LIB_PRIV) $(LDFLAGS_ALL) -o $@ $< \
	    $(TESTLIB_OBJ) $(LIB_A) $(TEST_LIBS) $(PKG_LIBS) -lm

$(O)/bench/%: bench/%.c $(LIB_A)
	@mkdir -p $(dir $@)
	$(E) "  CCLD    $@"
	$(Q)$(CC) $(CFLAGS_ALL) $(LDFLAGS_ALL) -o $@ $< $(LIB_A) $(PKG_LIBS) -lm

unit: check-pkgs $(PROGS) $(UNIT_BIN) $(PROG_BIN)

bench-progs: check-pkgs $(PROGS) $(BENCH_BIN)

# The whole suite, plain then sanitized; one summary line at the end.
test: deps
	@$(MAKE) --no-print-directory test-rel test-san
	@$(MAKE) --no-print-directory fuzz-smoke
	@tests/summary.sh build/rel/test-results build/san/test-results \
	    $(FUZZ_DIR)/test-results

test-rel:
	@$(MAKE) --no-print-directory -j$(JOBS) O=build/rel BIN=bin unit
	@tests/run.sh --name rel --bin bin --tests build/rel/tests \
	    --out build/rel/test-results

test-san:
	@$(MAKE) --no-print-directory -j$(JOBS) O=build/san BIN=build/san/bin SAN=1 unit
	@tests/run.sh --name san --bin build/san/bin --tests build/san/tests \
	    --out build/san/test-results

bench: deps
	@$(MAKE) --no-print-directory bench-progs
	@bench/run.sh

demo: deps
	@$(MAKE) --no-print-directory all
	@scripts/demo.sh start

demo-stop:
	@scripts/demo.sh stop

# Programs, man pages, example configurations and systemd units (with
# the sbin path filled in). /etc/tally is the operator's: see
# docs/operations.md. PREFIX and DESTDIR as usual.
PREFIX	 ?= /usr/local
BINDIR	  = $(PREFIX)/bin
SBINDIR	  = $(PREFIX)/sbin
MANDIR	  = $(PREFIX)/share/man
SHAREDIR  = $(PREFIX)/share/tally
INSTALL	 ?= install

install: $(PROGS)
	$(INSTALL) -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(SBINDIR) \
	    $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(MANDIR)/man5 \
	    $(DESTDIR)$(MANDIR)/man8 $(DESTDIR)$(SHAREDIR)/systemd
	$(INSTALL) -m 0755 $(BIN)/tally $(DESTDIR)$(BINDIR)/
	$(INSTALL) -m 0755 $(BIN)/tally-broker $(BIN)/tally-node \
	    $(DESTDIR)$(SBINDIR)/
	$(INSTALL) -m 0644 docs/man/tally.1 $(DESTDIR)$(MANDIR)/man1/
	$(INSTALL) -m 0644 docs/man/tally.conf.5 $(DESTDIR)$(MANDIR)/man5/
	$(INSTALL) -m 0644 docs/man/tally-broker.8 docs/man/tally-node.8 \
	    $(DESTDIR)$(MANDIR)/man8/
	$(INSTALL) -m 0644 deploy/broker.conf deploy/node.conf \
	    deploy/client.conf deploy/network/hospitals.csv \
	    $(DESTDIR)$(SHAREDIR)/
	$(INSTALL) -m 0644 deploy/systemd/tally.sysusers \
	    $(DESTDIR)$(SHAREDIR)/systemd/
	for u in tally-broker.service tally-node.service; do \
	    sed 's|/usr/local/sbin/|$(SBINDIR)/|g' deploy/systemd/$$u \
	        >$(DESTDIR)$(SHAREDIR)/systemd/$$u && \
	    chmod 0644 $(DESTDIR)$(SHAREDIR)/systemd/$$u || exit 1; \
	done
# libFuzzer targets (fuzz/*.c; fuzz/seeds.c writes their seed corpora),
# built with clang against a copy of lib/ instrumented for fuzzing in
# $(FUZZ_DIR)/obj (where clang's warnings are not errors: -Werror is for
# gcc). `make fuzz-smoke` runs each over fuzz/corpus/TARGET and FUZZ_RUNS
# more inputs; a long run: build/fuzz/TARGET -runs=N NEWDIR
# fuzz/corpus/TARGET.
FUZZ_CC	  ?= clang
FUZZ_DIR   = build/fuzz
FUZZ_RUNS ?= 2000
FUZZ_SRC   = $(sort $(wildcard fuzz/*.c))
FUZZ_BIN   = $(FUZZ_SRC:fuzz/%.c=$(FUZZ_DIR)/%)
FUZZ_LIB   = $(FUZZ_DIR)/obj/libtally.a
FUZZ_FLAGS = -std=c11 -D_DEFAULT_SOURCE -g -O1 -Wall -Wextra \
	     -fno-omit-frame-pointer -fsanitize=address,undefined \
	     -fno-sanitize-recover=all \
	     -Iinclude $(LIB_PRIV) -I$(FUZZ_DIR)/obj/proto $(PKG_CFLAGS)

fuzz: check-pkgs
	@$(MAKE) -s --no-print-directory -j$(JOBS) O=$(FUZZ_DIR)/obj CC=$(FUZZ_CC) SAN=1 \
	    CFLAGS="-fsanitize=fuzzer-no-link -Wno-error" $(FUZZ_LIB)
	@$(MAKE) -s --no-print-directory -j$(JOBS) $(FUZZ_BIN)

$(FUZZ_DIR)/seeds: fuzz/seeds.c $(FUZZ_LIB)
	$(E) "  FUZZLD  $@"
	$(Q)$(FUZZ_CC) $(FUZZ_FLAGS) -fsanitize=fuzzer-no-link -o $@ $< \
	    $(FUZZ_LIB) $(PKG_LIBS) -lm

$(FUZZ_DIR)/%: fuzz/%.c $(FUZZ_LIB)
	$(E) "  FUZZLD  $@"
	$(Q)$(FUZZ_CC) $(FUZZ_FLAGS) -fsanitize=fuzzer -o $@ $< \
	    $(FUZZ_LIB) $(PKG_LIBS) -lm

fuzz-smoke: fuzz
	@fuzz/smoke.sh $(FUZZ_DIR) $(FUZZ_RUNS)

format:
	clang-format -i $$(git ls-files '*.c' '*.h')

format-check:
	clang-format --dry-run --Werror $$(git ls-files '*.c' '*.h')

clean:
	rm -rf build bin

-include $(shell find build -name '*.d' 2>/dev/null)
