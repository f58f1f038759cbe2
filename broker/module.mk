# mcd-broker: the Auth/App server (users, apps, pools, login, catalog,
# launch tickets) and its admin CLI.  The core below needs no TLS and is
# what the unit tests link; the server adds the site protocol's objects.
BROKER_CORE_OBJ := $(addprefix $(O)/broker/,log.o store.o passwd.o limit.o \
	catalog.o token.o)
BROKER_LIBS := -lsqlite3 $(CRYPTO_LIBS)

$(O)/broker/%.o: override MCD_CFLAGS += -Isite-protocol
