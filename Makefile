# MCD top-level build.  `make` builds every binary into $(O); `make check`
# runs every test (unit, sanitizers, fuzzing, end-to-end on real Xen).
#
# Each directory adds its own targets in a module.mk fragment; this file
# holds only the shared flags and rules.

O ?= build
SANITIZE ?=
CFLAGS ?= -O2 -g
override MCD_CFLAGS := -std=gnu11 -Wall -Wextra -Werror -D_GNU_SOURCE \
	-Ixenstore-schema -Isite-protocol -MMD -MP $(CFLAGS)
override MCD_LDFLAGS := $(LDFLAGS)
ifeq ($(SANITIZE),1)
override MCD_CFLAGS += -fsanitize=address,undefined -fno-omit-frame-pointer \
	-fno-sanitize-recover=all
override MCD_LDFLAGS += -fsanitize=address,undefined
endif

XEN_LIBS := -lxenlight -lxlutil -lxenstore -lxenvchan -lxentoollog
CRYPTO_LIBS := -lcrypto
CMOCKA_LIBS := -lcmocka

# Filled in by the fragments.
BINS :=
UNIT_TESTS :=

.PHONY: all unit asan fuzz e2e site check demo clean shellcheck
all: bins

include xenstore-schema/module.mk
include site-protocol/module.mk
include dom0/mcd-toolstack/module.mk
include broker/module.mk
include guest/linux-agent/module.mk
include guest/windows-agent/module.mk
include client/module.mk
include packaging/module.mk
include tests/module.mk

.PHONY: bins
bins: $(BINS)

$(O)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(MCD_CFLAGS) -c $< -o $@

# Unit tests: build and run each; stop at the first failing binary.
unit: $(UNIT_TESTS)
	@set -e; for t in $(UNIT_TESTS); do echo "== $$t"; $$t; done

# The same unit suite under AddressSanitizer and UndefinedBehaviorSanitizer.
asan:
	$(MAKE) O=$(O)/asan SANITIZE=1 unit

# End-to-end tests on the real-Xen testbed (Xen 4.17 in QEMU).
e2e: bins
	tests/e2e/run.sh

# The control plane end to end: two testbed pools side by side, the
# Auth/App server and the thin client on the host (tests/site/run.sh).
.PHONY: site
site: bins
	tests/site/run.sh

# The README's test command: each part in turn (tests/check.sh), ending
# with a summary per part (result, counts, minutes).  bench-short runs last:
# a short benchmark that fails when a figure of its table is missing (no
# timing asserted).
CHECK_PARTS := shellcheck unit asan fuzz wintest debtest e2e site bench-short
check:
	@O=$(O) MAKE=$(MAKE) tests/check.sh $(CHECK_PARTS)

# Every shell script of the tree under shellcheck (.shellcheckrc).
shellcheck:
	tests/shellcheck.sh

# The README's demo: a launch on the real-Xen testbed.
demo: bins
	scripts/mcd-demo

clean:
	rm -rf $(O)

-include $(shell find $(O) -type f -name '*.d' 2>/dev/null)

# Benchmark on the real-Xen testbed: launches (cold, warm, with sessions
# running) and the X relay's x11perf rates beside direct mode.  A short run
# of it is part of `check`.
.PHONY: bench bench-short
bench: bins
	scripts/bench/mcd-bench

bench-short: bins
	scripts/bench/mcd-bench --short
