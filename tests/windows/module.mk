# Tests of the Windows agent.
#  - test_wincore (native, in `make unit` and `make asan`): the service's
#    OS-independent core: program paths, command-line quoting, environment
#    rules, exit codes, the configuration parser, the vchan page layout.
#  - test_vchan_ring (native, likewise): the service's vchan ring against
#    libxenvchan's client code.
#  - `make wintest`: the real mcd-agent.exe under Wine's service manager,
#    driven from Linux by test_win_agent (mcd_proto + mcd_chan's TCP
#    client); see tests/windows/run.sh.
UNIT_TESTS += $(O)/tests/windows/test_wincore $(O)/tests/windows/test_vchan_ring

$(O)/tests/windows/test_wincore: $(O)/tests/windows/test_wincore.o \
		$(O)/guest/windows-agent/wincore.o
	$(CC) $(MCD_CFLAGS) $^ -o $@ $(MCD_LDFLAGS) $(CMOCKA_LIBS)

# The agent's vchan ring against libxenvchan's own client code; the test
# defines xenevtchn_notify() itself (no event channel without Xen).
$(O)/tests/windows/test_vchan_ring: $(O)/tests/windows/test_vchan_ring.o \
		$(O)/guest/windows-agent/vchan_ring.o
	$(CC) $(MCD_CFLAGS) $^ -o $@ $(MCD_LDFLAGS) -lxenvchan $(CMOCKA_LIBS)

$(O)/tests/windows/test_win_agent: $(O)/tests/windows/test_win_agent.o \
		$(PROTO_OBJ) $(CHAN_OBJ)
	$(CC) $(MCD_CFLAGS) $^ -o $@ $(MCD_LDFLAGS) -lxenvchan $(CMOCKA_LIBS)

# The app the Wine tests launch.
WIN_TEST_APP := $(O)/tests/mcd-test-app.exe

$(WIN_TEST_APP): tests/windows/test-app.c
	@mkdir -p $(dir $@)
	$(WIN_CC) $(WIN_CFLAGS) $< -o $@ $(WIN_LDFLAGS)

ifneq ($(SANITIZE),1)
BINS += $(WIN_TEST_APP)
endif

.PHONY: wintest
wintest: $(WIN_AGENT_EXE) $(WIN_TEST_APP) $(O)/tests/windows/test_win_agent
	tests/windows/run.sh $(O)
