# mcd-client: the thin client's program (login, apps, pools, run, sessions,
# end, menu).  It speaks the site protocol, so it links the site-protocol
# module's objects.
CLIENT_LIB_SRCS := err.c conf.c pick.c state.c xcookie.c
CLIENT_NET_SRCS := talk.c loadq.c pools.c run.c jout.c menu.c
CLIENT_LIB_OBJS := $(addprefix $(O)/client/,$(CLIENT_LIB_SRCS:.c=.o))
CLIENT_NET_OBJS := $(addprefix $(O)/client/,$(CLIENT_NET_SRCS:.c=.o))
CLIENT_LIBS := -lX11 -lXau -lyajl -lpthread
CLIENT_BIN := $(O)/client/mcd-client

$(O)/client/%.o: override MCD_CFLAGS += -Isite-protocol

BINS += $(CLIENT_BIN)

$(CLIENT_BIN): $(O)/client/main.o $(CLIENT_NET_OBJS) $(CLIENT_LIB_OBJS) \
		$(SITE_OBJ) $(TLS_OBJ)
	$(CC) $(MCD_CFLAGS) $^ -o $@ $(MCD_LDFLAGS) $(CLIENT_LIBS) $(SSL_LIBS) \
		$(CRYPTO_LIBS)
