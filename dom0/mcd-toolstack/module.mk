# mcd-toolstack: the dom0 CLI and service.
# TLS for the X relay's leg to the thin client (xfwd.c): SSL_LIBS comes
# from site-protocol/module.mk.
TOOLSTACK_LIB_SRCS := dom0/mcd-toolstack/template.c dom0/mcd-toolstack/domain.c \
	dom0/mcd-toolstack/log.c \
	dom0/mcd-toolstack/clone.c dom0/mcd-toolstack/runprog.c \
	dom0/mcd-toolstack/load.c \
	dom0/mcd-toolstack/cmd_template.c \
	dom0/mcd-toolstack/cmd_load.c
TOOLSTACK_SRCS := $(TOOLSTACK_LIB_SRCS) dom0/mcd-toolstack/main.c \
	dom0/mcd-toolstack/daemon.c dom0/mcd-toolstack/jobs.c \
	dom0/mcd-toolstack/place.c dom0/mcd-toolstack/bootq.c \
	dom0/mcd-toolstack/session.c \
	dom0/mcd-toolstack/store.c dom0/mcd-toolstack/ctl.c \
	dom0/mcd-toolstack/pool.c dom0/mcd-toolstack/launchopt.c \
	dom0/mcd-toolstack/volume.c \
	dom0/mcd-toolstack/xfwd.c dom0/mcd-toolstack/worker.c \
	dom0/mcd-toolstack/sandbox.c \
	dom0/mcd-toolstack/face.c dom0/mcd-toolstack/faceconf.c \
	dom0/mcd-toolstack/faceticket.c dom0/mcd-toolstack/faceconn.c \
	dom0/mcd-toolstack/sessops.c
TOOLSTACK_OBJS := $(TOOLSTACK_SRCS:%.c=$(O)/%.o)

BINS += $(O)/bin/mcd-toolstack

$(O)/bin/mcd-toolstack: $(TOOLSTACK_OBJS) $(PROTO_OBJ) $(CHAN_OBJ) \
		$(SITE_OBJ) $(TICKET_OBJ) $(TLS_OBJ)
	@mkdir -p $(dir $@)
	$(CC) $(MCD_CFLAGS) $^ -o $@ $(MCD_LDFLAGS) $(XEN_LIBS) $(SSL_LIBS) $(CRYPTO_LIBS) -lseccomp -lpthread
