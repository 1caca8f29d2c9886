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

all: $(BINS)

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

clean:
	rm -rf build build-*

.PHONY: all unit deps check demo bench clean
