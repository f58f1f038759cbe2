# mcd-broker: the Auth/App server (users, apps, pools, login, catalog,
# launch tickets) and its admin CLI.  The core below needs no TLS and is
# what the unit tests link; the server adds the site protocol's objects.
BROKER_CORE_OBJ := $(addprefix $(O)/broker/,log.o store.o passwd.o limit.o \
	catalog.o token.o)
BROKER_LIBS := -lsqlite3 $(CRYPTO_LIBS)

$(O)/broker/%.o: override MCD_CFLAGS += -Isite-protocol

BROKER_OBJ := $(addprefix $(O)/broker/,main.o cmd.o cmd_user.o cmd_app.o \
	cmd_pool.o pwread.o request.o serve.o)

BINS += $(O)/broker/mcd-broker

$(O)/broker/mcd-broker: $(BROKER_OBJ) $(BROKER_CORE_OBJ) $(TLS_OBJ) \
		$(TICKET_OBJ) $(SITE_OBJ)
	$(CC) $(MCD_CFLAGS) $^ -o $@ $(MCD_LDFLAGS) $(BROKER_LIBS) -lyajl \
		$(SSL_LIBS) $(CRYPTO_LIBS)
