# Tests.  One block per test binary: its objects, then `UNIT_TESTS +=`, then
# its link rule.  `make unit` runs every UNIT_TESTS binary; `make fuzz`
# builds and runs the libFuzzer harnesses with clang.

# --- wire format (mcd_proto) ---
UNIT_TESTS += $(O)/tests/unit/test_proto

$(O)/tests/unit/test_proto: $(O)/tests/unit/test_proto.o $(PROTO_OBJ)
	$(CC) $(MCD_CFLAGS) $^ -o $@ $(MCD_LDFLAGS) $(CMOCKA_LIBS)

# --- wire format version 2 (LAUNCH2, READY, X relay) ---
UNIT_TESTS += $(O)/tests/unit/test_proto_v2

$(O)/tests/unit/test_proto_v2: $(O)/tests/unit/test_proto_v2.o $(PROTO_OBJ)
	$(CC) $(MCD_CFLAGS) $^ -o $@ $(MCD_LDFLAGS) $(CMOCKA_LIBS)

# --- site protocol: the codec (mcd_site), tickets, TLS legs ---
UNIT_TESTS += $(O)/tests/unit/test_site

$(O)/tests/unit/test_site: $(O)/tests/unit/test_site.o $(SITE_OBJ)
	$(CC) $(MCD_CFLAGS) $^ -o $@ $(MCD_LDFLAGS) $(CMOCKA_LIBS)

UNIT_TESTS += $(O)/tests/unit/test_ticket

$(O)/tests/unit/test_ticket: $(O)/tests/unit/test_ticket.o $(TICKET_OBJ) \
		$(SITE_OBJ)
	$(CC) $(MCD_CFLAGS) $^ -o $@ $(MCD_LDFLAGS) $(CRYPTO_LIBS) $(CMOCKA_LIBS)

# Real TLS on loopback with a test CA made by scripts/mcd-site-certs.
UNIT_TESTS += $(O)/tests/unit/test_tls

$(O)/tests/unit/test_tls: $(O)/tests/unit/test_tls.o $(TLS_OBJ) $(SITE_OBJ)
	$(CC) $(MCD_CFLAGS) $^ -o $@ $(MCD_LDFLAGS) $(SSL_LIBS) $(CRYPTO_LIBS) \
		$(CMOCKA_LIBS) -lpthread

# --- launch options (dom0/mcd-toolstack/launchopt.c) ---
UNIT_TESTS += $(O)/tests/unit/test_launchopt

$(O)/tests/unit/test_launchopt.o: override MCD_CFLAGS += -Idom0/mcd-toolstack

$(O)/tests/unit/test_launchopt: $(O)/tests/unit/test_launchopt.o \
		$(O)/dom0/mcd-toolstack/launchopt.o $(PROTO_OBJ)
	$(CC) $(MCD_CFLAGS) $^ -o $@ $(MCD_LDFLAGS) $(CRYPTO_LIBS) $(CMOCKA_LIBS)

# --- XenStore layout checker (mcd_schema, the core of mcd-schema-check) ---
UNIT_TESTS += $(O)/tests/unit/test_schema_check

$(O)/tests/unit/test_schema_check: $(O)/tests/unit/test_schema_check.o \
		$(SCHEMA_OBJ) $(PROTO_OBJ)
	$(CC) $(MCD_CFLAGS) $^ -o $@ $(MCD_LDFLAGS) $(CMOCKA_LIBS)

# --- fuzzing: `make fuzz [FUZZ_SECONDS=30]` builds the libFuzzer harnesses
# with clang into $(O)/tests/fuzz/, writes their seed corpora there, and runs
# each for FUZZ_SECONDS; a crash fails the make and leaves its input in
# $(O)/tests/fuzz/fuzz_<name>-crash-*.  New inputs collect in corpus-<name>/.
FUZZ_CC ?= clang
FUZZ_SECONDS ?= 30
FUZZ_DIR := $(O)/tests/fuzz
FUZZ_CFLAGS := -std=gnu11 -Wall -Wextra -Werror -D_GNU_SOURCE -Ixenstore-schema \
	-Isite-protocol \
	-g -O1 -fno-omit-frame-pointer -fsanitize=fuzzer,address,undefined \
	-fno-sanitize-recover=all
FUZZERS := proto schema xagent site

$(FUZZ_DIR)/fuzz_proto: tests/fuzz/fuzz_proto.c xenstore-schema/mcd_proto.c \
		xenstore-schema/mcd_proto.h
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) $(filter %.c,$^) -o $@

$(FUZZ_DIR)/fuzz_schema: tests/fuzz/fuzz_schema.c xenstore-schema/mcd_schema.c \
		xenstore-schema/mcd_proto.c xenstore-schema/mcd_schema.h \
		xenstore-schema/mcd_proto.h xenstore-schema/mcd_xs.h
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) $(filter %.c,$^) -o $@

# The agent's X side: dom0's relay messages, the watcher's lines.
$(FUZZ_DIR)/fuzz_xagent: tests/fuzz/fuzz_xagent.c guest/linux-agent/xrelay.c \
		guest/linux-agent/xwatch.c guest/linux-agent/launch.c \
		guest/linux-agent/runprog.c xenstore-schema/mcd_proto.c \
		guest/linux-agent/xrelay.h guest/linux-agent/xwatch.h
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) $(filter %.c,$^) -o $@ -lX11

# The site protocol's decoder and encoder (every direction, ticket bodies).
$(FUZZ_DIR)/fuzz_site: tests/fuzz/fuzz_site.c site-protocol/mcd_site.c \
		site-protocol/mcd_site.h
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) $(filter %.c,$^) -o $@

$(FUZZ_DIR)/gen_seeds: $(O)/tests/fuzz/gen_seeds.o $(PROTO_OBJ) $(SITE_OBJ)
	$(CC) $(MCD_CFLAGS) $^ -o $@ $(MCD_LDFLAGS)

fuzz: $(FUZZERS:%=$(FUZZ_DIR)/fuzz_%) $(FUZZ_DIR)/gen_seeds
	rm -rf $(FUZZ_DIR)/seeds
	$(FUZZ_DIR)/gen_seeds $(FUZZ_DIR)/seeds
	@set -e; for f in $(FUZZERS); do \
		mkdir -p $(FUZZ_DIR)/corpus-$$f; \
		echo "== fuzz_$$f for $(FUZZ_SECONDS) s"; \
		$(FUZZ_DIR)/fuzz_$$f -max_total_time=$(FUZZ_SECONDS) \
			-max_len=20000 -timeout=10 -print_final_stats=1 \
			-artifact_prefix=$(FUZZ_DIR)/fuzz_$$f- \
			$(FUZZ_DIR)/corpus-$$f $(FUZZ_DIR)/seeds/$$f; \
	done

# --- template loader unit test (no Xen needed) ---
TEST_TEMPLATE_OBJS := $(O)/tests/unit/test_template.o \
	$(O)/dom0/mcd-toolstack/template.o $(O)/dom0/mcd-toolstack/log.o
UNIT_TESTS += $(O)/tests/unit/test_template

$(O)/tests/unit/test_template.o: override MCD_CFLAGS += -Idom0/mcd-toolstack

$(O)/tests/unit/test_template: $(TEST_TEMPLATE_OBJS)
	$(CC) $(MCD_CFLAGS) $^ -o $@ $(MCD_LDFLAGS) $(XEN_LIBS) $(CMOCKA_LIBS)

# --- mcd-toolstack control framing and record quoting (no Xen needed) ---
UNIT_TESTS += $(O)/tests/unit/test_ctl

$(O)/tests/unit/test_ctl.o: override MCD_CFLAGS += -Idom0/mcd-toolstack

$(O)/tests/unit/test_ctl: $(O)/tests/unit/test_ctl.o \
		$(O)/dom0/mcd-toolstack/ctl.o $(O)/dom0/mcd-toolstack/store.o \
		$(O)/dom0/mcd-toolstack/log.o
	$(CC) $(MCD_CFLAGS) $^ -o $@ $(MCD_LDFLAGS) $(XEN_LIBS) $(CMOCKA_LIBS)

# --- Linux guest agent: config parser, state machine and launcher (unit),
# and the real mcd-agent binary driven over the socket stand-in ---
UNIT_TESTS += $(O)/tests/unit/test_agent_conf $(O)/tests/unit/test_agent_sm \
	$(O)/tests/unit/test_agent_launch $(O)/tests/agent/test_agent_socket

$(O)/tests/unit/test_agent_conf: $(O)/tests/unit/test_agent_conf.o \
		$(O)/guest/linux-agent/conf.o $(O)/guest/linux-agent/log.o
	$(CC) $(MCD_CFLAGS) $^ -o $@ $(MCD_LDFLAGS) $(CMOCKA_LIBS)

$(O)/tests/unit/test_agent_sm: $(O)/tests/unit/test_agent_sm.o \
		$(O)/guest/linux-agent/agent.o $(O)/guest/linux-agent/log.o \
		$(PROTO_OBJ)
	$(CC) $(MCD_CFLAGS) $^ -o $@ $(MCD_LDFLAGS) $(CMOCKA_LIBS)

$(O)/tests/unit/test_agent_launch: $(O)/tests/unit/test_agent_launch.o \
		$(O)/guest/linux-agent/launch.o $(O)/guest/linux-agent/runprog.o \
		$(O)/guest/linux-agent/log.o $(PROTO_OBJ)
	$(CC) $(MCD_CFLAGS) $^ -o $@ $(MCD_LDFLAGS) $(CMOCKA_LIBS)

# Runs the agent it finds at ../../guest/mcd-agent beside itself (or
# $MCD_AGENT), so the agent is built first; ASan builds test the ASan agent.
$(O)/tests/agent/test_agent_socket: $(O)/tests/agent/test_agent_socket.o \
		$(PROTO_OBJ) | $(AGENT_BIN)
	$(CC) $(MCD_CFLAGS) $^ -o $@ $(MCD_LDFLAGS) $(CMOCKA_LIBS)

# --- the agent's X side without an X server: setup parsing, ownership,
# relay credit and ids, watcher lines, the cookie file ---
UNIT_TESTS += $(O)/tests/unit/test_agent_xsess

$(O)/tests/unit/test_agent_xsess: $(O)/tests/unit/test_agent_xsess.o \
		$(O)/guest/linux-agent/xrelay.o $(O)/guest/linux-agent/xwatch.o \
		$(O)/guest/linux-agent/xcookie.o $(O)/guest/linux-agent/launch.o \
		$(O)/guest/linux-agent/runprog.o $(O)/guest/linux-agent/log.o \
		$(PROTO_OBJ)
	$(CC) $(MCD_CFLAGS) $^ -o $@ $(MCD_LDFLAGS) -lX11 -lXau $(CMOCKA_LIBS)

# X sessions end to end on the host: Xvfb, the real agent, this test as
# dom0 relaying X to Xvfb (skipped without Xvfb, xauth and xlogo).
UNIT_TESTS += $(O)/tests/agent/test_agent_x

$(O)/tests/agent/test_agent_x: $(O)/tests/agent/test_agent_x.o \
		$(PROTO_OBJ) | $(AGENT_BIN)
	$(CC) $(MCD_CFLAGS) $^ -o $@ $(MCD_LDFLAGS) -lX11 $(CMOCKA_LIBS)

# The misbehaving guest agent the end-to-end tests run in a test guest.
BINS += $(O)/tests/mcd-hostile-agent

$(O)/tests/mcd-hostile-agent: $(O)/tests/e2e/hostile-agent.o \
		$(O)/guest/linux-agent/xs.o $(O)/guest/linux-agent/log.o \
		$(PROTO_OBJ) $(CHAN_OBJ)
	$(CC) $(MCD_CFLAGS) $^ -o $@ $(MCD_LDFLAGS) $(AGENT_LIBS)

# --- per-launch disk clones: sparse copies, a fake lvm, the progress bar
# (no Xen, no LVM needed) ---
UNIT_TESTS += $(O)/tests/unit/test_clone

$(O)/tests/unit/test_clone.o: override MCD_CFLAGS += -Idom0/mcd-toolstack

$(O)/tests/unit/test_clone: $(O)/tests/unit/test_clone.o \
		$(O)/dom0/mcd-toolstack/clone.o $(O)/dom0/mcd-toolstack/runprog.o \
		$(O)/dom0/mcd-toolstack/log.o
	$(CC) $(MCD_CFLAGS) $^ -o $@ $(MCD_LDFLAGS) $(XEN_LIBS) $(CMOCKA_LIBS)

# --- users' volumes in dom0 (a stand-in mkfs, no Xen) and the agent's
# storage pieces (reasons, mount options, credentials files; no root) ---
UNIT_TESTS += $(O)/tests/unit/test_volume $(O)/tests/unit/test_agent_storage

$(O)/tests/unit/test_volume.o: override MCD_CFLAGS += -Idom0/mcd-toolstack

$(O)/tests/unit/test_volume: $(O)/tests/unit/test_volume.o \
		$(O)/dom0/mcd-toolstack/volume.o $(O)/dom0/mcd-toolstack/runprog.o \
		$(O)/dom0/mcd-toolstack/template.o \
		$(O)/dom0/mcd-toolstack/domain.o $(O)/dom0/mcd-toolstack/log.o \
		$(PROTO_OBJ)
	$(CC) $(MCD_CFLAGS) $^ -o $@ $(MCD_LDFLAGS) $(XEN_LIBS) $(CMOCKA_LIBS)

$(O)/tests/unit/test_agent_storage.o: override MCD_CFLAGS += -Iguest/linux-agent

$(O)/tests/unit/test_agent_storage: $(O)/tests/unit/test_agent_storage.o \
		$(O)/guest/linux-agent/storage.o $(O)/guest/linux-agent/launch.o \
		$(O)/guest/linux-agent/runprog.o $(O)/guest/linux-agent/log.o \
		$(PROTO_OBJ)
	$(CC) $(MCD_CFLAGS) $^ -o $@ $(MCD_LDFLAGS) $(CMOCKA_LIBS)

# --- the line of launches waiting for a boot slot (bootq.c, pure) ---
UNIT_TESTS += $(O)/tests/unit/test_bootq

$(O)/tests/unit/test_bootq.o: override MCD_CFLAGS += -Idom0/mcd-toolstack

$(O)/tests/unit/test_bootq: $(O)/tests/unit/test_bootq.o \
		$(O)/dom0/mcd-toolstack/bootq.o
	$(CC) $(MCD_CFLAGS) $^ -o $@ $(MCD_LDFLAGS) $(CMOCKA_LIBS)

# --- the load coefficient (fixed numbers) and the `load` command's argument
# handling (no Xen needed) ---
UNIT_TESTS += $(O)/tests/unit/test_load

$(O)/tests/unit/test_load.o: override MCD_CFLAGS += -Idom0/mcd-toolstack

$(O)/tests/unit/test_load: $(O)/tests/unit/test_load.o \
		$(O)/dom0/mcd-toolstack/load.o $(O)/dom0/mcd-toolstack/cmd_load.o \
		$(O)/dom0/mcd-toolstack/cmd_template.o \
		$(O)/dom0/mcd-toolstack/template.o $(O)/dom0/mcd-toolstack/clone.o \
		$(O)/dom0/mcd-toolstack/runprog.o \
		$(O)/dom0/mcd-toolstack/domain.o $(O)/dom0/mcd-toolstack/log.o
	$(CC) $(MCD_CFLAGS) $^ -o $@ $(MCD_LDFLAGS) $(XEN_LIBS) $(CMOCKA_LIBS)

# --- `mcd-toolstack template list|show|check` on templates in a temporary
# directory (no Xen needed) ---
UNIT_TESTS += $(O)/tests/unit/test_cmd_template

$(O)/tests/unit/test_cmd_template.o: override MCD_CFLAGS += -Idom0/mcd-toolstack

$(O)/tests/unit/test_cmd_template: $(O)/tests/unit/test_cmd_template.o \
		$(O)/dom0/mcd-toolstack/cmd_template.o \
		$(O)/dom0/mcd-toolstack/template.o $(O)/dom0/mcd-toolstack/clone.o \
		$(O)/dom0/mcd-toolstack/runprog.o \
		$(O)/dom0/mcd-toolstack/log.o
	$(CC) $(MCD_CFLAGS) $^ -o $@ $(MCD_LDFLAGS) $(XEN_LIBS) $(CMOCKA_LIBS)

# --- dom0 X relay (xfwd): relay rules and the TLS connector, on loopback
# sockets with certificates made by `openssl` at test time ---
UNIT_TESTS += $(O)/tests/unit/test_xfwd

$(O)/tests/unit/test_xfwd.o: override MCD_CFLAGS += -Idom0/mcd-toolstack

$(O)/tests/unit/test_xfwd: $(O)/tests/unit/test_xfwd.o \
		$(O)/dom0/mcd-toolstack/xfwd.o $(O)/dom0/mcd-toolstack/log.o \
		$(PROTO_OBJ)
	$(CC) $(MCD_CFLAGS) $^ -o $@ $(MCD_LDFLAGS) $(XEN_LIBS) $(SSL_LIBS) \
		$(CRYPTO_LIBS) $(CMOCKA_LIBS) -lpthread

# --- the channel's send queue (mcd_chan), on its socket backend ---
UNIT_TESTS += $(O)/tests/unit/test_chan

$(O)/tests/unit/test_chan: $(O)/tests/unit/test_chan.o $(CHAN_OBJ) $(PROTO_OBJ)
	$(CC) $(MCD_CFLAGS) $^ -o $@ $(MCD_LDFLAGS) $(XEN_LIBS) $(CMOCKA_LIBS)

# A control client that never reads its replies (tests/e2e/cases/25-control.sh).
BINS += $(O)/tests/mcd-stuck-client

$(O)/tests/e2e/stuck-client.o: override MCD_CFLAGS += -Idom0/mcd-toolstack

$(O)/tests/mcd-stuck-client: $(O)/tests/e2e/stuck-client.o \
		$(O)/dom0/mcd-toolstack/ctl.o
	$(CC) $(MCD_CFLAGS) $^ -o $@ $(MCD_LDFLAGS)

# --- the app's output apart from the agent's (guest/linux-agent/appout.c) ---
UNIT_TESTS += $(O)/tests/unit/test_agent_appout

$(O)/tests/unit/test_agent_appout: $(O)/tests/unit/test_agent_appout.o \
		$(O)/guest/linux-agent/appout.o
	$(CC) $(MCD_CFLAGS) $^ -o $@ $(MCD_LDFLAGS) $(CMOCKA_LIBS)

# --- helper programs: deadline, output tail, process group; the same
# tests against dom0's module and the agent's ---
UNIT_TESTS += $(O)/tests/unit/test_runprog $(O)/tests/unit/test_agent_runprog

$(O)/tests/unit/test_runprog.o: override MCD_CFLAGS += -Idom0/mcd-toolstack

$(O)/tests/unit/test_runprog: $(O)/tests/unit/test_runprog.o \
		$(O)/dom0/mcd-toolstack/runprog.o
	$(CC) $(MCD_CFLAGS) $^ -o $@ $(MCD_LDFLAGS) $(CMOCKA_LIBS)

$(O)/tests/unit/test_agent_runprog.o: tests/unit/test_runprog.c
	@mkdir -p $(dir $@)
	$(CC) $(MCD_CFLAGS) -Iguest/linux-agent -c $< -o $@

$(O)/tests/unit/test_agent_runprog: $(O)/tests/unit/test_agent_runprog.o \
		$(O)/guest/linux-agent/runprog.o
	$(CC) $(MCD_CFLAGS) $^ -o $@ $(MCD_LDFLAGS) $(CMOCKA_LIBS)

# --- the pool master's face: its configuration file and the ticket ->
# CTL_LAUNCH translation (no Xen, no TLS) ---
UNIT_TESTS += $(O)/tests/unit/test_faceconf

$(O)/tests/unit/test_faceconf.o: override MCD_CFLAGS += -Idom0/mcd-toolstack

$(O)/tests/unit/test_faceconf: $(O)/tests/unit/test_faceconf.o \
		$(O)/dom0/mcd-toolstack/faceconf.o $(PROTO_OBJ)
	$(CC) $(MCD_CFLAGS) $^ -o $@ $(MCD_LDFLAGS) $(CMOCKA_LIBS)

# --- the pool master's checks of a LAUNCH's ticket, with real keys and
# signed tickets ---
UNIT_TESTS += $(O)/tests/unit/test_faceticket

$(O)/tests/unit/test_faceticket.o: override MCD_CFLAGS += -Idom0/mcd-toolstack

$(O)/tests/unit/test_faceticket: $(O)/tests/unit/test_faceticket.o \
		$(O)/dom0/mcd-toolstack/faceticket.o $(TICKET_OBJ) $(SITE_OBJ)
	$(CC) $(MCD_CFLAGS) $^ -o $@ $(MCD_LDFLAGS) $(CRYPTO_LIBS) $(CMOCKA_LIBS)

# --- mcd-broker's core: the database and the catalog rules, password
# hashes and tokens, failed-login limits (no TLS, no server) ---
UNIT_TESTS += $(O)/tests/unit/test_broker_store $(O)/tests/unit/test_broker_passwd \
	$(O)/tests/unit/test_broker_limit

$(O)/tests/unit/test_broker_%.o: override MCD_CFLAGS += -Ibroker -Isite-protocol

$(O)/tests/unit/test_broker_store: $(O)/tests/unit/test_broker_store.o \
		$(BROKER_CORE_OBJ)
	$(CC) $(MCD_CFLAGS) $^ -o $@ $(MCD_LDFLAGS) $(BROKER_LIBS) $(CMOCKA_LIBS)

$(O)/tests/unit/test_broker_passwd: $(O)/tests/unit/test_broker_passwd.o \
		$(BROKER_CORE_OBJ)
	$(CC) $(MCD_CFLAGS) $^ -o $@ $(MCD_LDFLAGS) $(BROKER_LIBS) $(CMOCKA_LIBS)

$(O)/tests/unit/test_broker_limit: $(O)/tests/unit/test_broker_limit.o \
		$(BROKER_CORE_OBJ)
	$(CC) $(MCD_CFLAGS) $^ -o $@ $(MCD_LDFLAGS) $(BROKER_LIBS) $(CMOCKA_LIBS)

# --- the real mcd-broker served over real TLS on loopback (certificates
# made at test time); it runs the broker built beside it ---
UNIT_TESTS += $(O)/tests/unit/test_broker_serve

$(O)/tests/unit/test_broker_serve: $(O)/tests/unit/test_broker_serve.o \
		$(TLS_OBJ) $(TICKET_OBJ) $(SITE_OBJ) | $(O)/broker/mcd-broker
	$(CC) $(MCD_CFLAGS) $^ -o $@ $(MCD_LDFLAGS) $(SSL_LIBS) $(CRYPTO_LIBS) \
		$(CMOCKA_LIBS)

# --- the dom0 session state machine and warm pool (session.c, pool.c)
# through a fake daemon_ops table: frames as the worker passes them, a
# fake clock, no Xen ---
UNIT_TESTS += $(O)/tests/unit/test_session_fsm

$(O)/tests/unit/test_session_fsm.o: override MCD_CFLAGS += -Idom0/mcd-toolstack

$(O)/tests/unit/test_session_fsm: $(O)/tests/unit/test_session_fsm.o \
		$(O)/dom0/mcd-toolstack/session.o $(O)/dom0/mcd-toolstack/pool.o \
		$(O)/dom0/mcd-toolstack/launchopt.o \
		$(O)/dom0/mcd-toolstack/template.o $(O)/dom0/mcd-toolstack/log.o \
		$(PROTO_OBJ) $(CHAN_OBJ)
	$(CC) $(MCD_CFLAGS) $^ -o $@ $(MCD_LDFLAGS) $(XEN_LIBS) $(CRYPTO_LIBS) \
		$(CMOCKA_LIBS)

# --- the site tests' attacker: hand-made launch tickets, a silent pool ---
BINS += $(O)/tests/site/mcd-site-attack

$(O)/tests/site/mcd-site-attack: $(O)/tests/site/site-attack.o \
		$(SITE_OBJ) $(TICKET_OBJ) $(TLS_OBJ)
	$(CC) $(MCD_CFLAGS) $^ -o $@ $(MCD_LDFLAGS) $(SSL_LIBS)

# --- mcd-client's pure pieces: its configuration, the pool choice, the
# saved token and sessions, the X cookie from an Xauthority file ---
UNIT_TESTS += $(O)/tests/unit/test_client_conf $(O)/tests/unit/test_client_pick \
	$(O)/tests/unit/test_client_state $(O)/tests/unit/test_client_xcookie

$(O)/tests/unit/test_client_%.o: override MCD_CFLAGS += -Iclient -Isite-protocol

$(O)/tests/unit/test_client_conf: $(O)/tests/unit/test_client_conf.o \
		$(O)/client/conf.o $(O)/client/err.o
	$(CC) $(MCD_CFLAGS) $^ -o $@ $(MCD_LDFLAGS) $(CMOCKA_LIBS)

$(O)/tests/unit/test_client_pick: $(O)/tests/unit/test_client_pick.o \
		$(O)/client/pick.o
	$(CC) $(MCD_CFLAGS) $^ -o $@ $(MCD_LDFLAGS) $(CMOCKA_LIBS)

$(O)/tests/unit/test_client_state: $(O)/tests/unit/test_client_state.o \
		$(O)/client/state.o $(O)/client/err.o
	$(CC) $(MCD_CFLAGS) $^ -o $@ $(MCD_LDFLAGS) $(CMOCKA_LIBS)

$(O)/tests/unit/test_client_xcookie: $(O)/tests/unit/test_client_xcookie.o \
		$(O)/client/xcookie.o
	$(CC) $(MCD_CFLAGS) $^ -o $@ $(MCD_LDFLAGS) -lXau $(CMOCKA_LIBS)

# The parallel load query and the whole `run` command against fake pools
# and a fake broker (threads of the test) over real TLS, with certificates
# from scripts/mcd-site-certs.  `run` is the built binary, so the test
# knows its path and waits for it to be built.
UNIT_TESTS += $(O)/tests/unit/test_client_load

$(O)/tests/unit/test_client_load.o: override MCD_CFLAGS += \
	-DMCD_CLIENT_BIN='"$(CLIENT_BIN)"'

$(O)/tests/unit/test_client_load: $(O)/tests/unit/test_client_load.o \
		$(O)/client/loadq.o $(O)/client/talk.o $(O)/client/pick.o \
		$(O)/client/state.o $(O)/client/err.o $(SITE_OBJ) $(TLS_OBJ) $(TICKET_OBJ) \
		| $(CLIENT_BIN)
	$(CC) $(MCD_CFLAGS) $^ -o $@ $(MCD_LDFLAGS) $(SSL_LIBS) $(CRYPTO_LIBS) \
		$(CMOCKA_LIBS) -lpthread
