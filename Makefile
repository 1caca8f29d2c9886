# onionmesh build.
#
# Every .c in proto/ goes into build/libproto.a; every .c in a daemon's
# folder except its main file goes into build/lib<daemon>.a, so unit tests
# link the pure logic of any daemon without its main loop. Adding a file to
# a folder needs no change here.

CC      ?= cc
PKGS    := libsodium jansson libseccomp
# Debian ships no pkg-config file for nng or libev: ask, then fall back.
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null) \
              $(shell pkg-config --cflags nng libev 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null) \
              $(shell pkg-config --libs nng 2>/dev/null || echo -lnng) \
              $(shell pkg-config --libs libev 2>/dev/null || echo -lev) \
              -lpthread
CFLAGS  ?= -O2 -g
override CFLAGS += -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -Wshadow \
                   -Wno-unused-parameter -fno-strict-aliasing -I. $(PKG_CFLAGS)
LDFLAGS ?=
B       ?= build

DAEMONS := tund linkd keyd routed
BINS    := $(B)/onionmesh $(addprefix $(B)/onionmesh-,$(DAEMONS))

PROTO_SRC := $(wildcard proto/*.c)
PROTO_OBJ := $(PROTO_SRC:%.c=$(B)/%.o)
CTL_SRC   := $(wildcard ctl/*.c)
CTL_OBJ   := $(CTL_SRC:%.c=$(B)/%.o)
UNIT_SRC  := $(wildcard tests/unit/test_*.c)
UNIT_BIN  := $(UNIT_SRC:tests/unit/%.c=$(B)/tests/%)
# Small programs the netns tests drive (e.g. om-probe, a stranger that
# speaks the handshake); built with everything else.
TOOL_SRC  := $(wildcard tests/tools/*.c)
TOOL_BIN  := $(TOOL_SRC:tests/tools/%.c=$(B)/tools/%)

all: $(BINS) $(TOOL_BIN)

$(B)/%.o: %.c $(wildcard */*.h)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -c -o $@ $<

$(B)/libproto.a: $(PROTO_OBJ)
	@rm -f $@
	ar rcs $@ $^

define daemon_rules
$(1)_SRC := $$(filter-out $(1)/$(1).c,$$(wildcard $(1)/*.c))
$(1)_OBJ := $$($(1)_SRC:%.c=$(B)/%.o)
$(B)/lib$(1).a: $$($(1)_OBJ)
	@rm -f $$@
	ar rcs $$@ $$^ $$(if $$^,,)
$(B)/onionmesh-$(1): $(B)/$(1)/$(1).o $(B)/lib$(1).a $(B)/libproto.a
	$$(CC) $$(CFLAGS) $$(LDFLAGS) -o $$@ $$^ $$(PKG_LIBS)
endef
$(foreach d,$(DAEMONS),$(eval $(call daemon_rules,$(d))))

$(B)/onionmesh: $(CTL_OBJ) $(B)/libproto.a
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(PKG_LIBS)

TEST_LIBS := $(addprefix $(B)/lib,$(addsuffix .a,$(DAEMONS))) $(B)/libproto.a
$(B)/tests/%: tests/unit/%.c $(TEST_LIBS)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ $< -Wl,--start-group $(TEST_LIBS) -Wl,--end-group \
		$(PKG_LIBS) -lcmocka

$(B)/tools/%: tests/tools/%.c $(TEST_LIBS)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ $< -Wl,--start-group $(TEST_LIBS) -Wl,--end-group \
		$(PKG_LIBS)

unit: $(UNIT_BIN)

# The commands README.md gives. Each installs what it needs first.
deps:
	@scripts/deps.sh

check: deps
	@scripts/check.sh

demo: deps
	@scripts/demo.sh

bench: deps
	@bench/run.sh

bench-tor: deps
	@bench/tor.sh

clean:
	rm -rf build build-*

.PHONY: all unit deps check demo bench bench-tor clean

# Fuzzing: one libFuzzer target per parser of untrusted input
# (tests/fuzz/fuzz_*.c, seeds in tests/fuzz/corpus/<name>/), clang only.
# The libraries are rebuilt into $(FUZZ_B) with coverage and ASan/UBSan
# by a sub-make, so the normal build dirs are never touched. Each
# target runs on a copy of its seeds in $(FUZZ_B)/corpus/<name> (new
# inputs are never written into the tree), one target at a time, and
# any crash fails the run (its input lands in $(FUZZ_B)/artifacts/).
#   make fuzz                  FUZZ_SECONDS (20) seconds per target
#   make fuzz-long             FUZZ_RUNS (10000000) inputs per target
#   make fuzz FUZZ_TARGETS="wire msg"   only those
#   make fuzz-corpus           regenerate tests/fuzz/corpus/ (the seeds)
FUZZ_B       ?= build-fuzz
FUZZ_CC      ?= clang
FUZZ_SECONDS ?= 20
FUZZ_RUNS    ?= 10000000
FUZZ_SAN     := -fsanitize=address,undefined -fno-sanitize-recover=all \
                -fno-omit-frame-pointer
FUZZ_CFLAGS  := -O1 -g $(FUZZ_SAN) -fsanitize=fuzzer-no-link
FUZZ_NAMES   := $(patsubst tests/fuzz/fuzz_%.c,%,\
                $(wildcard tests/fuzz/fuzz_*.c))
FUZZ_TARGETS ?= $(FUZZ_NAMES)
FUZZ_LIBS    := $(addprefix $(FUZZ_B)/lib,$(addsuffix .a,$(DAEMONS))) \
                $(FUZZ_B)/libproto.a
FUZZ_BIN     := $(FUZZ_TARGETS:%=$(FUZZ_B)/fuzz_%)
FUZZ_HDRS    := $(wildcard tests/fuzz/*.h)

fuzz-build:
	@$(MAKE) --no-print-directory B=$(FUZZ_B) CC=$(FUZZ_CC) \
	    CFLAGS="$(FUZZ_CFLAGS)" $(FUZZ_LIBS)
	@$(MAKE) --no-print-directory fuzz-bins

fuzz-bins: $(FUZZ_BIN)

$(FUZZ_B)/fuzz_%: tests/fuzz/fuzz_%.c $(FUZZ_HDRS) $(FUZZ_LIBS)
	$(FUZZ_CC) $(CFLAGS) $(FUZZ_SAN) -O1 -g -fsanitize=fuzzer -o $@ $< \
	    -Wl,--start-group $(FUZZ_LIBS) -Wl,--end-group $(PKG_LIBS)

$(FUZZ_B)/gen_corpus: tests/fuzz/gen_corpus.c $(FUZZ_HDRS) $(FUZZ_LIBS)
	$(FUZZ_CC) $(CFLAGS) $(FUZZ_SAN) -O1 -g -fsanitize=fuzzer-no-link \
	    -o $@ $< -Wl,--start-group $(FUZZ_LIBS) -Wl,--end-group $(PKG_LIBS)

fuzz: fuzz-build
	@tests/fuzz/run.sh $(FUZZ_B) time $(FUZZ_SECONDS) $(FUZZ_TARGETS)

fuzz-long: fuzz-build
	@tests/fuzz/run.sh $(FUZZ_B) runs $(FUZZ_RUNS) $(FUZZ_TARGETS)

fuzz-corpus:
	@$(MAKE) --no-print-directory B=$(FUZZ_B) CC=$(FUZZ_CC) \
	    CFLAGS="$(FUZZ_CFLAGS)" $(FUZZ_LIBS)
	@$(MAKE) --no-print-directory $(FUZZ_B)/gen_corpus
	$(FUZZ_B)/gen_corpus tests/fuzz/corpus

.PHONY: fuzz fuzz-long fuzz-build fuzz-bins fuzz-corpus

# Route recomputation benchmark (bench/routes.c, results in
# bench/RESULTS.md): 10,000 members and 50,000 edges, graph build +
# shortest paths + forwarding table, median of several runs against the
# 50 ms target.
#   make bench-routes [BENCH_ROUTES_ARGS="-n 10000 -e 50000 -r 7"]
BENCH_ROUTES_ARGS ?=
$(B)/bench/routes: bench/routes.c $(TEST_LIBS)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ $< -Wl,--start-group $(TEST_LIBS) -Wl,--end-group \
		$(PKG_LIBS)

bench-routes: $(B)/bench/routes
	$(B)/bench/routes $(BENCH_ROUTES_ARGS)

.PHONY: bench-routes
