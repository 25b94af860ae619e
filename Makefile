# multivm: see README.md. `make run` and `make test` are the two entry points.
CC      ?= cc
BUILD   ?= build
CFLAGS  ?= -O2 -g
WARN    := -std=gnu11 -Wall -Wextra -Werror -Wshadow -Wno-unused-parameter
CPPFLAGS := -D_GNU_SOURCE -Isrc
LIBS    := -linih -lseccomp -ljansson -lpcap -pthread
SAN     := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer

SRCS    := $(wildcard src/*/*.c)
LIBSRCS := $(filter-out src/cli/main.c,$(SRCS))
UNIT    := $(patsubst tests/unit/%.c,%,$(wildcard tests/unit/test_*.c))

# Two flavours of every object: plain (build/) and sanitized (build/asan/).
obj      = $(patsubst %.c,$(BUILD)/obj/%.o,$(1))
asanobj  = $(patsubst %.c,$(BUILD)/asan/obj/%.o,$(1))

.PHONY: all run test unit e2e bench clean deps guest asan fuzz-build fuzz fuzz-replay soak image install
.SECONDARY:
all: $(BUILD)/multivm guest
asan: $(BUILD)/asan/multivm

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(WARN) $(CFLAGS) $(CPPFLAGS) -MMD -MP -c $< -o $@
$(BUILD)/asan/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(WARN) $(CFLAGS) $(SAN) $(CPPFLAGS) -MMD -MP -c $< -o $@

$(BUILD)/multivm: $(call obj,$(SRCS))
	$(CC) $(CFLAGS) -o $@ $^ $(LIBS)
$(BUILD)/asan/multivm: $(call asanobj,$(SRCS))
	$(CC) $(CFLAGS) $(SAN) -o $@ $^ $(LIBS)

$(BUILD)/tests/%: $(BUILD)/obj/tests/unit/%.o $(call obj,$(LIBSRCS))
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ $^ $(LIBS) -lcmocka
$(BUILD)/asan/tests/%: $(BUILD)/asan/obj/tests/unit/%.o $(call asanobj,$(LIBSRCS))
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(SAN) -o $@ $^ $(LIBS) -lcmocka

# Guest image: initramfs from the host's Debian kernel + busybox-static.
guest: $(BUILD)/guest/initramfs.cpio.gz
$(BUILD)/guest/initramfs.cpio.gz: guest/mkinitramfs.sh guest/init guest/agent.c src/common/agent_proto.h $(wildcard guest/*.sh)
	sh guest/mkinitramfs.sh $(BUILD)/guest

# libFuzzer targets (clang): build/fuzz/NAME, corpora in tests/fuzz/corpus/NAME.
FUZZ_CC     ?= clang
FUZZ_FLAGS  := -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all
FUZZ        := $(patsubst tests/fuzz/%.c,%,$(wildcard tests/fuzz/fuzz_*.c))
FUZZ_SECONDS ?= 60
fuzzobj = $(patsubst %.c,$(BUILD)/fuzz/obj/%.o,$(1))

$(BUILD)/fuzz/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(FUZZ_CC) -std=gnu11 -Wall -Wextra -Werror -Wno-unused-parameter $(FUZZ_FLAGS:fuzzer,=fuzzer-no-link,) \
		$(CPPFLAGS) -MMD -MP -c $< -o $@
$(BUILD)/fuzz/%: $(BUILD)/fuzz/obj/tests/fuzz/%.o $(call fuzzobj,$(LIBSRCS))
	$(FUZZ_CC) $(FUZZ_FLAGS) -o $@ $^ $(LIBS)

fuzz-build: $(addprefix $(BUILD)/fuzz/,$(FUZZ))

# Each target for FUZZ_SECONDS, growing its corpus (new inputs land in
# build/fuzz/new/NAME; copy the interesting ones into tests/fuzz/corpus).
fuzz: fuzz-build
	sh tests/fuzz/run.sh $(BUILD) $(FUZZ_SECONDS) $(FUZZ)

# Every checked-in input once: a crash found once stays fixed.
fuzz-replay: fuzz-build
	sh tests/fuzz/run.sh $(BUILD) 0 $(FUZZ)

deps:
	sh scripts/deps.sh test

run:
	sh scripts/deps.sh run
	$(MAKE) all
	$(BUILD)/multivm run $(CONFIG)

unit: $(addprefix $(BUILD)/tests/,$(UNIT)) $(addprefix $(BUILD)/asan/tests/,$(UNIT))
	sh tests/run-unit.sh $(BUILD) $(UNIT)

$(BUILD)/tools/%: $(BUILD)/obj/tests/tools/%.o $(call obj,$(LIBSRCS))
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ $^ $(LIBS)

# make e2e T="ping dpdk" BUILDS=plain: only tests/e2e/test_ping.sh and
# test_dpdk.sh, only against the plain build (BUILDS=plain|asan|both).
T      ?=
BUILDS ?= both
e2e: all $(if $(filter plain,$(BUILDS)),,asan) $(BUILD)/tools/hostile_frontend $(BUILD)/tools/sysinject
	BUILDS=$(BUILDS) MULTIVM_TEST_IMAGE=$(IMAGE) sh tests/run-e2e.sh $(BUILD) $(T)

# The Debian image tests/e2e/test_images.sh boots (scripts/mkimage.sh, as
# root, from the Debian mirror): cached outside the build directory and the
# clone, rebuilt only when mkimage.sh changes.
IMAGE ?= /var/cache/multivm/debian12.qcow2
image:
	sh scripts/mkimage.sh $(IMAGE)

test: deps
	$(MAKE) image
	$(MAKE) unit
	$(MAKE) fuzz-replay
	$(MAKE) e2e

$(BUILD)/bench/%: $(BUILD)/obj/bench/%.o $(call obj,$(LIBSRCS))
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ $^ $(LIBS)

# Minutes of flood traffic; not part of make test (SOAK_SECONDS).
soak: all
	sh tests/soak.sh $(BUILD)

# Every part runs (bench/run.sh); figures to stdout and, one a line, to
# $(BUILD)/bench/figures.tsv: commit, machine, bench, metric, value.
bench: all $(BUILD)/bench/bench_fwd $(BUILD)/bench/pingpong $(BUILD)/bench/rawsend $(BUILD)/bench/switchcost \
	$(BUILD)/bench/relinkwait $(BUILD)/tools/hostile_frontend
	MULTIVM_TEST_IMAGE=$(IMAGE) sh bench/run.sh $(BUILD)

# make install [PREFIX=/usr/local] [DESTDIR=...]: the binary and its guest
# image in PREFIX/lib/multivm (the binary finds the image beside itself),
# PREFIX/bin/multivm a link to it, the man pages, and the systemd unit
# multivm@.service (instance: the host's name; README.md, "Several hosts").
PREFIX  ?= /usr/local
DESTDIR ?=
UNITDIR ?= $(PREFIX)/lib/systemd/system
install: $(BUILD)/multivm guest
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/lib/multivm/guest $(DESTDIR)$(UNITDIR) \
		$(DESTDIR)$(PREFIX)/share/man/man5 $(DESTDIR)$(PREFIX)/share/man/man8
	install -m 755 $(BUILD)/multivm $(DESTDIR)$(PREFIX)/lib/multivm/multivm
	install -m 644 $(BUILD)/guest/initramfs.cpio.gz $(BUILD)/guest/vmlinuz $(DESTDIR)$(PREFIX)/lib/multivm/guest/
	ln -sf ../lib/multivm/multivm $(DESTDIR)$(PREFIX)/bin/multivm
	install -m 644 src/config/multivm.ini.5 $(DESTDIR)$(PREFIX)/share/man/man5/multivm.ini.5
	install -m 644 src/cli/multivm.8 $(DESTDIR)$(PREFIX)/share/man/man8/multivm.8
	sed 's|@BINDIR@|$(PREFIX)/bin|g' systemd/multivm@.service >$(DESTDIR)$(UNITDIR)/multivm@.service
	chmod 644 $(DESTDIR)$(UNITDIR)/multivm@.service

clean:
	rm -rf $(BUILD)

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
