# The Linux guest agent, mcd-agent.  It needs only libxenvchan, libxenstore
# and libxentoollog in the guest (not libxl), so it does not link XEN_LIBS.
AGENT_SRCS := log.c conf.c agent.c launch.c runprog.c storage.c xsess.c xcookie.c \
	xrelay.c xwatch.c xs.c appout.c loop.c
AGENT_OBJS := $(addprefix $(O)/guest/linux-agent/,$(AGENT_SRCS:.c=.o))
# libX11 and libXau: the X display check and the session's cookie.
AGENT_LIBS := -lxenvchan -lxenstore -lxentoollog -lX11 -lXau
AGENT_BIN := $(O)/guest/mcd-agent

BINS += $(AGENT_BIN)

$(AGENT_BIN): $(O)/guest/linux-agent/main.o $(AGENT_OBJS) $(PROTO_OBJ) $(CHAN_OBJ)
	$(CC) $(MCD_CFLAGS) $^ -o $@ $(MCD_LDFLAGS) $(AGENT_LIBS)
